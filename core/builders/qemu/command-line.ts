// The qemu command line as Packer's stepRun builds it (getDefaultArgs, getDeviceAndDriveArgs,
// applyUserOverrides): a map of defaults by flag, then qemuargs — a flag the template gives replaces
// every default entry of that flag (a row's values joined into one argument, as Packer does), a
// -device list without the network device gets it back, and flags only the template names are
// added. imgb keeps Packer's defaults' order (Go's map order is random) with the template's rows
// in the place of the defaults they replace, and adds its own monitor socket (-qmp, to type the
// boot command) which qemuargs cannot remove.
import type { QemuConfig } from "./config.ts";
import { smpArg } from "./config.ts";
import type { Accelerator } from "./accelerator.ts";

export interface VmLayout {
  /** The main disk and disk_additional_size disks, in order. */
  disks: string[];
  hostPort: number;
  guestPort: number;
  consoleLog: string;
  accelerator: Accelerator | "none";
  /** The monitor imgb types the boot command through. */
  qmpSocket?: string;
  /** The installer ISO (not disk_image). */
  iso?: string;
  /** cd_files / cd_content. */
  cd?: string;
  floppy?: string;
  /** VNC port (5900 + display) when VNC is on. */
  vncPort?: number;
  vncPassword?: boolean;
  /** The writable copy of the EFI variables. */
  efiVars?: string;
  /** swtpm's control socket. */
  tpmSocket?: string;
}

type Defaults = Map<string, string[]>;

export function defaultArgs(c: QemuConfig, l: VmLayout): Defaults {
  const d: Defaults = new Map();
  const set = (flag: string, ...values: string[]) => d.set(flag, values);
  if (!c.efi_boot) set("-boot", c.disk_image || c.kernel ? "c" : "once=d");
  if (c.qmp_enable) set("-qmp", `unix:${c.qmp_socket_path},server=on,wait=off`);
  set("-name", c.vm_name);
  set("-machine", l.accelerator === "none" ? `type=${c.machine_type}` : `type=${c.machine_type},accel=${l.accelerator}`);
  if (c.firmware && !c.use_pflash) set("-bios", c.firmware);
  if (c.net_bridge) set("-netdev", `bridge,id=user.0,br=${c.net_bridge}`);
  else if (c.communicator !== "none" && !c.skip_nat_mapping) set("-netdev", `user,id=user.0,hostfwd=tcp:127.0.0.1:${l.hostPort}-:${l.guestPort}`);
  else set("-netdev", "user,id=user.0");
  if (l.vncPort !== undefined) set("-vnc", `${c.vnc_bind_address}:${l.vncPort - 5900}${l.vncPassword ? ",password=on" : ""}`);
  set("-m", `${c.memory}M`);
  set("-smp", smpArg(c));
  if (c.cpu_model) set("-cpu", c.cpu_model);
  else if (l.accelerator === "kvm") set("-cpu", "host");
  if (l.floppy) set("-fda", l.floppy);
  if (!c.headless && c.display && c.display !== "none") set("-display", c.display);
  else if (l.vncPort === undefined && !c.use_default_display) set("-display", "none");
  if (l.tpmSocket) {
    set("-chardev", `socket,id=vtpm,path=${l.tpmSocket}`);
    set("-tpmdev", "emulator,id=tpm0,chardev=vtpm");
  }
  if (c.vga) set("-vga", c.vga);
  // imgb: the serial console goes to a log that failure messages quote.
  set("-serial", `file:${l.consoleLog}`);
  const { devices, drives } = deviceAndDriveArgs(c, l);
  d.set("-device", devices);
  d.set("-drive", drives);
  if (c.kernel) {
    set("-kernel", c.kernel);
    if (c.initrd) set("-initrd", c.initrd);
    if (c.kernel_args) set("-append", c.kernel_args);
  }
  return d;
}

function deviceAndDriveArgs(c: QemuConfig, l: VmLayout): { devices: string[]; drives: string[] } {
  const devices: string[] = [];
  const drives: string[] = [];
  let scsiIndex = 0;
  for (const [i, disk] of l.disks.entries()) {
    let drive = `file=${disk},if=${c.disk_interface},cache=${c.disk_cache},discard=${c.disk_discard},format=qcow2`;
    if (c.disk_interface === "virtio-scsi") {
      if (scsiIndex === 0) devices.push("virtio-scsi-pci,id=scsi0");
      devices.push(`scsi-hd,bus=scsi0.0,drive=drive${i}`);
      drive = `if=none,file=${disk},id=drive${i},cache=${c.disk_cache},discard=${c.disk_discard},format=qcow2`;
      scsiIndex++;
    }
    if (c.disk_detect_zeroes !== "off") drive += `,detect-zeroes=${c.disk_detect_zeroes}`;
    drives.push(drive);
  }
  devices.push(`${c.net_device},netdev=user.0`);
  // imgb: the guest's kernel gets entropy at once (a headless installer can wait minutes for it).
  devices.push("virtio-rng-pci");
  const cds = [l.iso, l.cd].filter((p): p is string => Boolean(p));
  for (const [i, cd] of cds.entries()) {
    if (!c.cdrom_interface) drives.push(`file=${cd},media=cdrom`);
    else if (c.cdrom_interface === "virtio-scsi") {
      if (scsiIndex === 0) devices.push("virtio-scsi-pci,id=scsi0");
      drives.push(`file=${cd},if=none,index=${scsiIndex},id=cdrom${i},media=cdrom`);
      devices.push("virtio-scsi-device", `scsi-cd,drive=cdrom${i}`);
      scsiIndex++;
    } else drives.push(`file=${cd},if=${c.cdrom_interface},index=${i},id=cdrom${i},media=cdrom`);
  }
  if (c.firmware && c.use_pflash) drives.push(`file=${c.firmware},if=pflash,format=raw,readonly=on`);
  if (c.efi_boot && l.efiVars) {
    drives.push(`file=${c.efi_firmware_code},if=pflash,unit=0,format=raw,readonly=on`);
    drives.push(`file=${l.efiVars},if=pflash,unit=1,format=raw`);
  }
  if (l.tpmSocket) devices.push(`${c.tpm_device_type},tpmdev=tpm0`);
  return { devices, drives };
}

/** Packer's applyUserOverrides, on rows already rendered. */
export function mergeQemuArgs(defaults: Defaults, userArgs: string[][], netDevice: string): Array<[string, string[]]> {
  const user = new Map<string, string[]>();
  for (const row of userArgs) {
    const key = row[0]!;
    const value = row.slice(1).join("");
    const values = user.get(key) ?? [];
    if (value.length > 0) values.push(value);
    user.set(key, values);
  }
  const out: Array<[string, string[]]> = [];
  for (const [flag, values] of defaults) out.push([flag, user.get(flag) ?? values]);
  for (const [flag, values] of user) if (!defaults.has(flag)) out.push([flag, values]);
  // Packer #6804: a template's -device list without the network device gets it back.
  const devices = out.find(([flag]) => flag === "-device");
  if (devices && user.has("-device") && !devices[1].join("").includes(netDevice)) devices[1] = [...devices[1], `${netDevice},netdev=user.0`];
  return out;
}

export function qemuArgv(c: QemuConfig, l: VmLayout, renderedArgs: string[][] = c.qemuargs): string[] {
  const merged = mergeQemuArgs(defaultArgs(c, l), renderedArgs, c.net_device);
  const argv = [c.qemu_binary];
  for (const [flag, values] of merged) {
    if (values.length === 0) argv.push(flag);
    else for (const v of values) argv.push(flag, v);
  }
  if (l.qmpSocket) argv.push("-qmp", `unix:${l.qmpSocket},server=on,wait=off`);
  return argv;
}
