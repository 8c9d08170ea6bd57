// The qemu command line: Packer's defaults for a headless VM with user networking and the SSH port
// forwarded on 127.0.0.1, then the template's qemuargs, which replace defaults with the same flag.
import type { QemuConfig } from "./config.ts";
import type { Accelerator } from "./accelerator.ts";

export interface VmLayout {
  disk: string;
  hostPort: number;
  guestPort: number;
  consoleLog: string;
  accelerator: Accelerator | "none";
}

export function qemuArgv(c: QemuConfig, l: VmLayout): string[] {
  const defaults: string[][] = [
    ["-name", c.vm_name],
    ["-machine", `type=${c.machine_type}`],
    ...(l.accelerator === "none" ? [] : [["-accel", l.accelerator]]),
    ...(l.accelerator === "kvm" ? [["-cpu", "host"]] : []),
    ["-m", `${c.memory}M`],
    ["-smp", String(c.cpus)],
    ["-display", "none"],
    ["-drive", `file=${l.disk},if=${c.disk_interface},cache=writeback,discard=unmap,format=qcow2`],
    ["-netdev", `user,id=user.0,hostfwd=tcp:127.0.0.1:${l.hostPort}-:${l.guestPort}`],
    ["-device", `${c.net_device},netdev=user.0`],
    ["-device", "virtio-rng-pci"],
    ["-serial", `file:${l.consoleLog}`],
  ];
  if (c.kernel) {
    defaults.push(["-kernel", c.kernel]);
    if (c.initrd) defaults.push(["-initrd", c.initrd]);
    if (c.kernel_args) defaults.push(["-append", c.kernel_args]);
  }
  const overridden = new Set(c.qemuargs.map((a) => a[0]));
  // Network and RNG devices stay unless the template replaces every -device.
  const kept = defaults.filter((a) => !overridden.has(a[0]));
  return [c.qemu_binary, ...kept.flat(), ...c.qemuargs.flat()];
}
