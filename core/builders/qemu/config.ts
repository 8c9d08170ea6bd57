// The qemu builder's configuration: the essentials of Packer's `qemu` builder for booting an
// existing disk image (disk_image = true), plus direct kernel boot (imgb's kernel/initrd/kernel_args).
import type { ConfigField, ConfigSchema } from "../../plugin/schema.ts";
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import type { JsonObject } from "../../values/json.ts";
import type { BuildContextValues } from "../../template/model.ts";
import { sshConfigFields, parseSshConfig, type SshConfig } from "../../communicator/ssh/index.ts";
import { decodeConfig, parseDuration, parseSize } from "../docker/config-decode.ts";

export const ACCELERATORS = ["", "kvm", "tcg", "none"] as const;

// ssh_port is chosen by the builder (a forwarded host port); ssh_host defaults to 127.0.0.1.
const sshFields: ConfigField[] = sshConfigFields.map((f) =>
  f.name === "ssh_port" ? { ...f, default: 22, description: "Guest port sshd listens on (the host side is forwarded)." } : f,
);

export const qemuSchema: ConfigSchema = {
  fields: [
    { name: "iso_url", type: "string", default: "", description: "With disk_image: the disk image to boot." },
    { name: "iso_urls", type: "list(string)", default: [] },
    { name: "iso_checksum", type: "string", default: "none", description: '"none", "sha256:HEX" or "file:PATH".' },
    { name: "disk_image", type: "bool", default: false, description: "iso_url is a bootable disk image (required)." },
    { name: "use_backing_file", type: "bool", default: false, description: "Keep the output as a qcow2 overlay on iso_url." },
    { name: "output_directory", type: "string", default: "" },
    { name: "vm_name", type: "string", default: "" },
    { name: "format", type: "string", default: "qcow2", description: "qcow2 or raw." },
    { name: "disk_size", type: "string", default: "", description: "Grow the disk to this size (e.g. 4G); default: the image's." },
    { name: "disk_interface", type: "string", default: "virtio" },
    { name: "disk_compression", type: "bool", default: false },
    { name: "skip_compaction", type: "bool", default: false },
    { name: "net_device", type: "string", default: "virtio-net" },
    { name: "accelerator", type: "string", default: "", description: "kvm, tcg or none; default: kvm when a test boot works, else tcg." },
    { name: "machine_type", type: "string", default: "pc" },
    { name: "cpus", type: "number", default: 1 },
    { name: "memory", type: "number", default: 512, description: "MiB." },
    { name: "qemu_binary", type: "string", default: "qemu-system-x86_64" },
    { name: "qemuargs", type: "any", default: [], description: "Extra arguments: a list of lists of strings." },
    { name: "kernel", type: "string", default: "", description: "imgb: boot this kernel directly." },
    { name: "initrd", type: "string", default: "" },
    { name: "kernel_args", type: "string", default: "root=/dev/vda rw console=ttyS0" },
    { name: "headless", type: "bool", default: true, description: "Always headless in imgb." },
    { name: "boot_wait", type: "string", default: "0s" },
    { name: "host_port_min", type: "number", default: 2222 },
    { name: "host_port_max", type: "number", default: 4444 },
    { name: "shutdown_command", type: "string", default: "" },
    { name: "shutdown_timeout", type: "string", default: "5m" },
    { name: "communicator", type: "string", default: "ssh" },
    { name: "packer_force", type: "bool", default: false },
    ...sshFields,
  ],
};

export interface QemuConfig {
  iso_url: string;
  iso_urls: string[];
  iso_checksum: string;
  disk_image: boolean;
  use_backing_file: boolean;
  output_directory: string;
  vm_name: string;
  format: "qcow2" | "raw";
  disk_size: string;
  disk_interface: string;
  disk_compression: boolean;
  skip_compaction: boolean;
  net_device: string;
  accelerator: (typeof ACCELERATORS)[number];
  machine_type: string;
  cpus: number;
  memory: number;
  qemu_binary: string;
  qemuargs: string[][];
  kernel: string;
  initrd: string;
  kernel_args: string;
  headless: boolean;
  boot_wait: string;
  host_port_min: number;
  host_port_max: number;
  shutdown_command: string;
  shutdown_timeout: string;
  communicator: "ssh" | "none";
  packer_force: boolean;
  // Derived.
  diskBytes?: number;
  bootWaitMs: number;
  shutdownTimeoutMs: number;
  ssh?: SshConfig;
}

export function parseQemuConfig(raw: JsonObject, build: BuildContextValues): { config?: QemuConfig; diagnostics: Diagnostic[] } {
  const { value: c, diagnostics } = decodeConfig<QemuConfig>("qemu", qemuSchema, raw);
  if (!c) return { diagnostics };
  const bad = (summary: string) => diagnostics.push(errorDiag(`qemu: ${summary}`));
  if (!c.iso_url && c.iso_urls.length > 0) c.iso_url = c.iso_urls[0]!;
  if (!c.iso_url) bad('"iso_url" must be specified (the disk image to boot)');
  if (!c.disk_image) bad('only disk_image = true is supported: imgb boots an existing disk image (installing from an ISO needs boot_command)');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(c.iso_url) && !c.iso_url.startsWith("file://")) bad(`"iso_url": only local files are supported, got ${c.iso_url}`);
  if (c.iso_checksum !== "none" && !/^(sha256:[0-9a-f]{64}|[0-9a-f]{64}|file:.+)$/i.test(c.iso_checksum)) {
    bad(`"iso_checksum": expected "none", "sha256:HEX" or "file:PATH"`);
  }
  if (c.format !== "qcow2" && c.format !== "raw") bad(`"format" must be qcow2 or raw`);
  if (c.use_backing_file && c.format !== "qcow2") bad("use_backing_file requires format = qcow2");
  if (!(ACCELERATORS as readonly string[]).includes(c.accelerator)) bad(`"accelerator" must be kvm, tcg or none`);
  if (c.initrd && !c.kernel) bad('"initrd" needs "kernel"');
  if (c.disk_size) {
    c.diskBytes = parseSize(c.disk_size);
    if (c.diskBytes === undefined) bad(`"disk_size": "${c.disk_size}" is not a size like 4G or 10240M`);
  }
  if (!Array.isArray(c.qemuargs) || !c.qemuargs.every((a) => Array.isArray(a) && a.every((s) => typeof s === "string"))) {
    bad('"qemuargs" must be a list of lists of strings');
  }
  const duration = (key: string, text: string) => {
    const ms = parseDuration(text);
    if (ms === undefined) bad(`"${key}": "${text}" is not a duration like 5m or 30s`);
    return ms ?? 0;
  };
  c.bootWaitMs = duration("boot_wait", c.boot_wait);
  c.shutdownTimeoutMs = duration("shutdown_timeout", c.shutdown_timeout);
  if (!(c.host_port_min >= 1 && c.host_port_max <= 65535 && c.host_port_min <= c.host_port_max)) bad("host_port_min..host_port_max is not a port range");
  if (c.cpus < 1 || c.memory < 32) bad('"cpus" must be ≥ 1 and "memory" ≥ 32 (MiB)');
  if (c.communicator !== "ssh" && c.communicator !== "none") bad('"communicator" must be ssh or none');
  if (c.communicator === "ssh") {
    const host = typeof raw["ssh_host"] === "string" && raw["ssh_host"] ? raw["ssh_host"] : "127.0.0.1";
    const ssh = parseSshConfig({ ...raw, ssh_host: host });
    diagnostics.push(...ssh.diagnostics.map((d) => ({ ...d, summary: `qemu: ${d.summary}` })));
    if (ssh.config) c.ssh = ssh.config;
  }
  c.output_directory ||= `output-${build.sourceName}`;
  c.vm_name ||= `packer-${build.sourceName}`;
  if (diagnostics.length > 0) return { diagnostics };
  return { config: c, diagnostics };
}
