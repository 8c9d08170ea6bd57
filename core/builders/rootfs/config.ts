// The rootfs builder's configuration: what goes into the root filesystem (mmdebstrap's suite,
// mirror, variant, packages, or a given tarball) and which files come out of it.
import { defineFields, type ConfigOf } from "../../config/schema.ts";
import { decodeTyped } from "../../config/typed.ts";
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import type { JsonObject } from "../../values/json.ts";
import type { BuildContextValues } from "../../template/model.ts";
import { parseSize } from "../common/disk-size.ts";

export const ROOTFS_FORMATS = ["tar", "tar.gz", "tar.zst", "ext4", "raw", "qcow2", "oci"] as const;
export const BOOTLOADERS = ["none", "syslinux"] as const;
export type RootfsFormat = (typeof ROOTFS_FORMATS)[number];

const VARIANTS = ["extract", "custom", "essential", "apt", "required", "minbase", "buildd", "important", "debootstrap", "standard"];

export const rootfsSchema = {
  fields: defineFields([
    { name: "suite", type: "string", default: "bookworm", description: "Debian suite for mmdebstrap." },
    { name: "mirror", type: "string", default: "", description: "Default: the mirror apt uses on the build host." },
    { name: "variant", type: "string", default: "minbase", description: "mmdebstrap --variant." },
    { name: "components", type: "list(string)", default: ["main"] },
    { name: "packages", type: "list(string)", default: [], description: "Packages to include." },
    { name: "mmdebstrap_args", type: "list(string)", default: [], description: "Extra mmdebstrap arguments (hooks, --aptopt, ...)." },
    { name: "source_tarball", type: "string", default: "", description: "Start from this rootfs tarball instead of mmdebstrap (relative to the working directory, like every path)." },
    { name: "output_directory", type: "string", default: "", description: "Default: output-<source name>." },
    { name: "image_name", type: "string", default: "", description: "Base name of the output files; default: the source name." },
    { name: "formats", type: "list(string)", default: ["tar"], description: `Any of: ${ROOTFS_FORMATS.join(", ")}.` },
    { name: "disk_size", type: "string", default: "", description: "ext4/raw/qcow2 size (\"2G\", \"1500M\"); default: content + 30% + 256 MiB (+ the boot partition)." },
    {
      name: "bootloader",
      type: "string",
      default: "none",
      description: 'none: raw and qcow2 hold the bare ext4 file system (boot it with a kernel). syslinux: they hold a BIOS-bootable disk (MBR, FAT boot partition with syslinux, kernel and initrd; ext4 root partition).',
    },
    { name: "kernel_args", type: "string", default: "console=tty0 console=ttyS0,115200", description: "With bootloader: the kernel command line (root=UUID=… rw is added unless root= is given)." },
    { name: "image_ref", type: "string", default: "", description: "OCI ref name; default: localhost/<image_name>:latest." },
    { name: "export_kernel", type: "bool", default: true, description: "Copy /boot's kernel and initrd out, when present." },
    { name: "packer_force", type: "bool", default: false, description: "Overwrite an existing output directory (-force)." },
  ]),
};

/** The decoded schema, with formats and bootloader narrowed by the checks in parseRootfsConfig. */
export type RootfsConfig = Omit<ConfigOf<typeof rootfsSchema.fields>, "formats" | "bootloader"> & {
  formats: RootfsFormat[];
  bootloader: (typeof BOOTLOADERS)[number];
  /** Parsed disk_size in bytes; undefined = automatic. */
  diskBytes?: number;
};

export function parseRootfsConfig(raw: JsonObject, build: BuildContextValues): { config?: RootfsConfig; diagnostics: Diagnostic[] } {
  const { value, diagnostics } = decodeTyped("rootfs", rootfsSchema, raw);
  if (!value) return { diagnostics };
  // Narrowed: the members of formats and bootloader are checked below (any other is a diagnostic).
  const c = value as RootfsConfig;
  const bad = (summary: string) => diagnostics.push(errorDiag(`rootfs: ${summary}`));
  if (!VARIANTS.includes(c.variant)) bad(`"variant" must be one of ${VARIANTS.join(", ")}`);
  for (const f of c.formats) {
    if (!(ROOTFS_FORMATS as readonly string[]).includes(f)) bad(`formats: "${f}" is not one of ${ROOTFS_FORMATS.join(", ")}`);
  }
  if (c.formats.length === 0) bad('"formats" must list at least one format');
  if (c.disk_size) {
    c.diskBytes = parseSize(c.disk_size);
    if (c.diskBytes === undefined) bad(`"disk_size": "${c.disk_size}" is not a size like 2G or 1500M`);
  }
  if (!(BOOTLOADERS as readonly string[]).includes(c.bootloader)) bad(`"bootloader" must be one of ${BOOTLOADERS.join(", ")}`);
  if (c.bootloader !== "none" && !c.formats.some((f) => f === "raw" || f === "qcow2")) bad(`"bootloader" makes the raw and qcow2 disks bootable: add "raw" or "qcow2" to formats`);
  if (/[\r\n]/.test(c.kernel_args)) bad('"kernel_args" must be one line');
  if (c.image_ref && !/^[a-z0-9][a-z0-9._\/-]*(:[\w][\w.-]*)?$/.test(c.image_ref)) bad(`"image_ref": "${c.image_ref}" is not an image name`);
  c.image_name ||= build.sourceName.replace(/[^A-Za-z0-9._-]/g, "-") || "rootfs";
  c.output_directory ||= `output-${build.sourceName}`;
  c.image_ref ||= `localhost/${c.image_name.toLowerCase()}:latest`;
  if (diagnostics.length > 0) return { diagnostics };
  return { config: c, diagnostics };
}
