// The qemu builder's configuration: Packer's `qemu` builder (packer-plugin-qemu Config) — an OS
// installed from an ISO (iso_url, boot_command, HTTP server, CD and floppy) or an existing disk
// image booted (disk_image = true) — plus direct kernel boot (imgb's kernel/initrd/kernel_args).
import { defineFields, type ConfigField, type ConfigOf } from "../../config/schema.ts";
import { decodeTyped } from "../../config/typed.ts";
import { parseGoDuration } from "../../values/go-duration.ts";
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import type { JsonObject } from "../../values/json.ts";
import type { BuildContextValues } from "../../template/model.ts";
import { sshConfigFields, parseSshConfig, type SshConfig } from "../../communicator/ssh/index.ts";
import { parseSize } from "../common/disk-size.ts";
import { parseChecksum, type ChecksumSpec } from "../common/checksum.ts";
import { urlProblem } from "../common/download.ts";
import { checkHttpConfig, httpConfigFields, type HttpConfig } from "../common/http-server.ts";
import { cdConfigFields, checkFloppyConfig, floppyConfigFields, type CdConfig, type FloppyConfig } from "../common/cd-floppy.ts";
import { bootSteps, parseBootCommand, untypable, BootCommandError } from "../common/boot-command.ts";

export const ACCELERATORS = ["", "kvm", "tcg", "none"] as const;
const DETECT_ZEROES = ["off", "on", "unmap"] as const;
const DISK_CACHES = ["writeback", "writethrough", "none", "unsafe", "directsync"] as const;
const DISK_DISCARDS = ["unmap", "ignore"] as const;

// ssh_port is chosen by the builder (a forwarded host port); ssh_host defaults to 127.0.0.1.
const sshFields: ConfigField[] = sshConfigFields.map((f) =>
  f.name === "ssh_port" ? { ...f, default: 22, description: "Guest port sshd listens on (the host side is forwarded)." } : f,
);

const qemuFields = defineFields([
    { name: "iso_url", type: "string", default: "", description: "The installer ISO, or with disk_image the disk image: a path, file://, http(s)://." },
    { name: "iso_urls", type: "list(string)", default: [], description: "URLs tried in turn." },
    { name: "iso_checksum", type: "string", default: "", description: '"none", "sha256:HEX" (md5, sha1, sha512 too), a bare HEX, or "file:URL-or-path" of a SUMS file.' },
    { name: "iso_target_path", type: "string", default: "", description: "Where a downloaded ISO goes (a folder: under its cache name)." },
    { name: "iso_target_extension", type: "string", default: "iso" },
    { name: "disk_image", type: "bool", default: false, description: "iso_url is a bootable disk image, not an installer." },
    { name: "use_backing_file", type: "bool", default: false, description: "Keep the output as a qcow2 overlay on iso_url." },
    { name: "output_directory", type: "string", default: "" },
    { name: "vm_name", type: "string", default: "" },
    { name: "format", type: "string", default: "qcow2", description: "qcow2 or raw." },
    { name: "disk_size", type: "string", default: "", description: "e.g. 4G; default 40960M for an install, the image's size for disk_image." },
    { name: "disk_additional_size", type: "list(string)", default: [], description: "Sizes of more empty disks." },
    { name: "disk_interface", type: "string", default: "virtio" },
    { name: "disk_cache", type: "string", default: "writeback" },
    { name: "disk_discard", type: "string", default: "ignore" },
    { name: "disk_detect_zeroes", type: "string", default: "off" },
    { name: "disk_compression", type: "bool", default: false },
    { name: "skip_compaction", type: "bool", default: false },
    { name: "skip_resize_disk", type: "bool", default: false },
    { name: "qemu_img_args", type: "any", default: {}, description: "Extra qemu-img arguments: { create = [...], convert = [...], resize = [...] }." },
    { name: "cdrom_interface", type: "string", default: "" },
    { name: "net_device", type: "string", default: "virtio-net" },
    { name: "net_bridge", type: "string", default: "" },
    { name: "accelerator", type: "string", default: "", description: "kvm, tcg or none; default: kvm when a test boot works, else tcg." },
    { name: "machine_type", type: "string", default: "pc" },
    { name: "cpu_model", type: "string", default: "" },
    { name: "cpus", type: "number", default: 0 },
    { name: "sockets", type: "number", default: 0 },
    { name: "cores", type: "number", default: 0 },
    { name: "threads", type: "number", default: 0 },
    { name: "memory", type: "number", default: 512, description: "MiB." },
    { name: "vga", type: "string", default: "" },
    { name: "display", type: "string", default: "" },
    { name: "use_default_display", type: "bool", default: false },
    { name: "headless", type: "bool", default: false, description: "imgb never opens a window: the VM's screen is on VNC." },
    { name: "firmware", type: "string", default: "" },
    { name: "use_pflash", type: "bool", default: false },
    { name: "efi_boot", type: "bool", default: false },
    { name: "efi_firmware_code", type: "string", default: "" },
    { name: "efi_firmware_vars", type: "string", default: "" },
    { name: "efi_drop_efivars", type: "bool", default: false },
    { name: "vtpm", type: "bool", default: false },
    { name: "use_tpm1", type: "bool", default: false },
    { name: "tpm_device_type", type: "string", default: "" },
    { name: "qemu_binary", type: "string", default: "qemu-system-x86_64" },
    { name: "qemuargs", type: "any", default: [], late: true, description: "Extra arguments: a list of lists of strings; a flag given here replaces the default entries of that flag." },
    { name: "kernel", type: "string", default: "", description: "imgb: boot this kernel directly." },
    { name: "initrd", type: "string", default: "" },
    { name: "kernel_args", type: "string", default: "root=/dev/vda rw console=ttyS0" },
    { name: "boot_command", type: "list(string)", default: [], late: true, description: "Keys typed once the VM started (Packer's syntax)." },
    { name: "boot_steps", type: "any", default: [], late: true, description: "[command, description] pairs typed in turn." },
    { name: "boot_wait", type: "string", default: "", description: "Wait before typing; default 10s with a boot command, else 0." },
    { name: "boot_key_interval", type: "string", default: "" },
    { name: "boot_keygroup_interval", type: "string", default: "" },
    { name: "disable_vnc", type: "bool", default: false },
    { name: "vnc_bind_address", type: "string", default: "127.0.0.1" },
    { name: "vnc_port_min", type: "number", default: 5900 },
    { name: "vnc_port_max", type: "number", default: 6000 },
    { name: "vnc_use_password", type: "bool", default: false },
    { name: "qmp_enable", type: "bool", default: false },
    { name: "qmp_socket_path", type: "string", default: "" },
    { name: "host_port_min", type: "number", default: 2222 },
    { name: "host_port_max", type: "number", default: 4444 },
    { name: "ssh_host_port_min", type: "number", default: 0 },
    { name: "ssh_host_port_max", type: "number", default: 0 },
    { name: "skip_nat_mapping", type: "bool", default: false },
    { name: "shutdown_command", type: "string", default: "" },
    { name: "shutdown_timeout", type: "string", default: "5m" },
    { name: "communicator", type: "string", default: "ssh" },
    { name: "ssh_wait_timeout", type: "string", default: "", description: "Old name of ssh_timeout." },
    { name: "pause_before_connecting", type: "string", default: "", description: "Wait this long before connecting." },
    // WinRM keys are accepted (templates set them for every builder) but the communicator is not supported.
    { name: "winrm_username", type: "string", default: "" },
    { name: "winrm_password", type: "string", default: "" },
    { name: "winrm_host", type: "string", default: "" },
    { name: "winrm_timeout", type: "string", default: "" },
    { name: "winrm_transport_decorator", type: "string", default: "" },
    { name: "winrm_port", type: "number", default: 0 },
    { name: "winrm_use_ssl", type: "bool", default: false },
    { name: "winrm_insecure", type: "bool", default: false },
    { name: "winrm_use_ntlm", type: "bool", default: false },
    { name: "winrm_no_proxy", type: "bool", default: false },
    { name: "packer_force", type: "bool", default: false },
]);

export const qemuSchema = {
  fields: [...qemuFields, ...httpConfigFields, ...cdConfigFields, ...floppyConfigFields, ...sshFields],
};

export interface QemuImgArgs {
  create: string[];
  convert: string[];
  resize: string[];
}

/** The decoded schema, narrowed where the checks in parseQemuConfig allow only some values, plus what is derived. */
export type QemuConfig = Omit<ConfigOf<typeof qemuFields>, "format" | "accelerator" | "communicator" | "qemuargs" | "qemu_img_args" | "boot_steps"> &
  HttpConfig &
  CdConfig &
  FloppyConfig & {
    format: "qcow2" | "raw";
    accelerator: (typeof ACCELERATORS)[number];
    communicator: "ssh" | "none";
    qemuargs: string[][];
    qemu_img_args: QemuImgArgs;
    boot_steps: string[][];
  // Derived.
  isoUrls: string[];
  checksum: ChecksumSpec;
  diskBytes?: number;
  additionalDiskBytes: number[];
  bootWaitMs: number;
  /** undefined: PACKER_KEY_INTERVAL or the default. */
  keyIntervalMs?: number;
  shutdownTimeoutMs: number;
  pauseBeforeConnectingMs: number;
  ssh?: SshConfig;
  };

/** Packer's default OVMF paths are Debian's (the ovmf package). */
export const DEFAULT_EFI_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
export const DEFAULT_EFI_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd";
const DEFAULT_INSTALL_DISK = "40960M";

export function parseQemuConfig(raw: JsonObject, build: BuildContextValues): { config?: QemuConfig; diagnostics: Diagnostic[] } {
  const { value, diagnostics } = decodeTyped("qemu", qemuSchema, raw);
  if (!value) return { diagnostics };
  // Narrowed: the values of the narrowed keys are checked below (any other is a diagnostic), and the
  // derived keys are set below.
  const c = value as unknown as QemuConfig;
  const bad = (summary: string) => diagnostics.push(errorDiag(`qemu: ${summary}`));
  c.isoUrls = c.iso_url ? [c.iso_url] : c.iso_urls;
  if (c.iso_url && c.iso_urls.length > 0) bad('only one of "iso_url" or "iso_urls" may be specified');
  if (c.isoUrls.length === 0) bad('one of "iso_url" or "iso_urls" must be specified');
  for (const u of c.isoUrls) {
    const p = urlProblem(u);
    if (p) bad(`"iso_url": ${p}`);
  }
  if (c.iso_checksum === "") bad('"iso_checksum" must be specified (use "none" to skip the check)');
  const sum = parseChecksum(c.iso_checksum);
  if ("error" in sum) bad(`"iso_checksum": ${sum.error}`);
  else c.checksum = sum;
  if (c.format !== "qcow2" && c.format !== "raw") bad(`"format" must be qcow2 or raw`);
  if (c.use_backing_file && (c.format !== "qcow2" || !c.disk_image)) bad("use_backing_file requires disk_image = true and format = qcow2");
  if (!(ACCELERATORS as readonly string[]).includes(c.accelerator)) bad(`"accelerator" must be kvm, tcg or none`);
  if (!(DETECT_ZEROES as readonly string[]).includes(c.disk_detect_zeroes)) bad(`"disk_detect_zeroes" must be one of ${DETECT_ZEROES.join(", ")}`);
  if (!(DISK_CACHES as readonly string[]).includes(c.disk_cache)) bad(`"disk_cache" must be one of ${DISK_CACHES.join(", ")}`);
  if (!(DISK_DISCARDS as readonly string[]).includes(c.disk_discard)) bad(`"disk_discard" must be unmap or ignore`);
  if (c.initrd && !c.kernel) bad('"initrd" needs "kernel"');
  if (!c.disk_size && !c.disk_image) c.disk_size = DEFAULT_INSTALL_DISK;
  if (c.disk_size) {
    c.diskBytes = parseSize(c.disk_size);
    if (c.diskBytes === undefined) bad(`"disk_size": "${c.disk_size}" is not a size like 4G or 10240M`);
  }
  c.additionalDiskBytes = c.disk_additional_size.map((s) => {
    const n = parseSize(s);
    if (n === undefined) bad(`"disk_additional_size": "${s}" is not a size like 4G or 10240M`);
    return n ?? 0;
  });
  if (!Array.isArray(c.qemuargs) || !c.qemuargs.every((a) => Array.isArray(a) && a.length > 0 && a.every((s) => typeof s === "string"))) {
    bad('"qemuargs" must be a list of non-empty lists of strings');
  }
  // HCL2 writes it as a block (a list of one object once decoded), JSON as an object.
  const rawImgArgs = c.qemu_img_args as unknown;
  const imgArgs = Array.isArray(rawImgArgs) && rawImgArgs.length === 1 ? rawImgArgs[0] : rawImgArgs;
  const okImgArgs =
    typeof imgArgs === "object" && imgArgs !== null && !Array.isArray(imgArgs) &&
    Object.entries(imgArgs).every(([k, v]) => ["create", "convert", "resize"].includes(k) && Array.isArray(v) && v.every((s) => typeof s === "string"));
  if (!okImgArgs) bad('"qemu_img_args" must be an object with create, convert and resize lists of strings');
  c.qemu_img_args = { create: [], convert: [], resize: [], ...(okImgArgs ? (imgArgs as Partial<QemuImgArgs>) : {}) };
  if (!Array.isArray(c.boot_steps) || !c.boot_steps.every((s) => Array.isArray(s) && s.length <= 2 && s.every((x) => typeof x === "string"))) {
    bad('"boot_steps" must be a list of [command, description] lists of strings');
    c.boot_steps = [];
  }
  if (c.boot_command.length > 0 && c.boot_steps.length > 0) bad('"boot_command" and "boot_steps" cannot both be set');
  const steps = bootSteps(c.boot_command, c.boot_steps);
  if (steps.length > 0 && c.disable_vnc) bad("a boot command cannot be used when vnc is disabled");
  for (const s of steps) {
    try {
      const chars = untypable(parseBootCommand(s.command));
      if (chars.length > 0) bad(`boot command: no key of a US keyboard types ${chars.map((x) => JSON.stringify(x)).join(", ")}`);
    } catch (err) {
      bad(err instanceof BootCommandError ? err.message : String(err));
    }
  }
  const duration = (key: string, text: string) => {
    const d = parseGoDuration(text);
    if (!d.ok) bad(`"${key}": "${text}" is not a duration like 5m or 30s`);
    return d.ok ? d.ms : 0;
  };
  // Packer: boot_wait defaults to 10s; a negative one means none.
  c.bootWaitMs = c.boot_wait === "" ? (steps.length > 0 ? 10_000 : 0) : Math.max(0, duration("boot_wait", c.boot_wait));
  if (c.boot_key_interval) c.keyIntervalMs = duration("boot_key_interval", c.boot_key_interval);
  if (c.boot_keygroup_interval) duration("boot_keygroup_interval", c.boot_keygroup_interval);
  c.shutdownTimeoutMs = duration("shutdown_timeout", c.shutdown_timeout);
  c.pauseBeforeConnectingMs = c.pause_before_connecting ? duration("pause_before_connecting", c.pause_before_connecting) : 0;
  // ssh_host_port_min/max are Packer's older names of host_port_min/max.
  if (c.ssh_host_port_min) c.host_port_min = c.ssh_host_port_min;
  if (c.ssh_host_port_max) c.host_port_max = c.ssh_host_port_max;
  if (!(c.host_port_min >= 1 && c.host_port_max <= 65535 && c.host_port_min <= c.host_port_max)) bad("host_port_min..host_port_max is not a port range");
  if (!(c.vnc_port_min >= 5900 && c.vnc_port_max <= 65535 && c.vnc_port_min <= c.vnc_port_max)) bad("vnc_port_min..vnc_port_max must be a port range from 5900");
  for (const e of checkHttpConfig(c)) bad(e);
  // QEMU's user network reaches the host's loopback at 10.0.2.2: the files (preseeds carry
  // passwords) need not be offered to every network the host is on, as Packer's 0.0.0.0 does.
  if (raw["http_bind_address"] === undefined && !c.net_bridge) c.http_bind_address = "127.0.0.1";
  for (const e of checkFloppyConfig(c)) bad(e);
  if (c.cpus < 0 || c.sockets < 0 || c.cores < 0 || c.threads < 0) bad('"cpus", "sockets", "cores" and "threads" must not be negative');
  if (c.memory < 32) bad('"memory" must be ≥ 32 (MiB)');
  if (c.efi_drop_efivars && !c.efi_boot) bad("efi_drop_efivars needs efi_boot");
  if (c.efi_boot) {
    c.efi_firmware_code ||= DEFAULT_EFI_CODE;
    c.efi_firmware_vars ||= DEFAULT_EFI_VARS;
  } else if (c.efi_firmware_code || c.efi_firmware_vars) {
    // Packer turns EFI on when the firmware files are given.
    c.efi_boot = true;
    c.efi_firmware_code ||= DEFAULT_EFI_CODE;
    c.efi_firmware_vars ||= DEFAULT_EFI_VARS;
  }
  if (c.efi_boot && c.firmware) bad('"firmware" and efi_boot cannot both be set');
  c.tpm_device_type ||= "tpm-tis";
  if ((c.communicator as string) === "winrm") bad('"communicator": imgb has no WinRM communicator (ssh or none)');
  else if (c.communicator !== "ssh" && c.communicator !== "none") bad('"communicator" must be ssh or none');
  if (c.communicator === "ssh" && c.net_bridge && !raw["ssh_host"]) {
    bad(`net_bridge "${c.net_bridge}" needs ssh_host: imgb does not discover the guest's address on a bridge`);
  }
  if (c.communicator === "ssh") {
    const host = typeof raw["ssh_host"] === "string" && raw["ssh_host"] ? raw["ssh_host"] : "127.0.0.1";
    const withHost: JsonObject = { ...raw, ssh_host: host };
    if (c.ssh_wait_timeout && raw["ssh_timeout"] === undefined) withHost["ssh_timeout"] = c.ssh_wait_timeout;
    const ssh = parseSshConfig(withHost);
    diagnostics.push(...ssh.diagnostics.map((d) => ({ ...d, summary: `qemu: ${d.summary}` })));
    if (ssh.config) c.ssh = ssh.config;
  }
  c.output_directory ||= `output-${build.sourceName}`;
  c.vm_name ||= `packer-${build.sourceName}`;
  if (diagnostics.length > 0) return { diagnostics };
  return { config: c, diagnostics };
}

/** Packer's -smp (QemuSMPConfig.getDefaultCmdLine): the vCPU count bounded by the topology, then the topology. */
export function smpArg(c: Pick<QemuConfig, "cpus" | "sockets" | "cores" | "threads">): string {
  let total = c.sockets;
  if (c.cores > 0 && total > 0) total *= c.cores;
  if (total === 0) total = c.cores;
  if (c.threads > 0 && total !== 0) total *= c.threads;
  if (total === 0) total = c.threads;
  if (total === 0 && c.cpus === 0) return "1";
  let count = c.cpus === 0 ? total : c.cpus;
  if (count > total && total !== 0) count = total;
  let smp = String(count);
  if (c.sockets > 0) smp += `,sockets=${c.sockets}`;
  if (c.cores > 0) smp += `,cores=${c.cores}`;
  if (c.threads > 0) smp += `,threads=${c.threads}`;
  return smp;
}
