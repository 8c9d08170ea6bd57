// Whether KVM works is learnt by booting, never from /dev/kvm: on nested or restricted hosts the
// device opens fine and guests then spin or abort. The test boot runs the build's own kernel (when it
// has one) under KVM and waits for it to reach the hand-over to init; without a kernel, SeaBIOS must
// reach its boot menu. Either happens in about a second when KVM works.
import { readdir } from "node:fs/promises";
import { spawnChild } from "../../process/child.ts";

export type Accelerator = "kvm" | "tcg";

export interface TestBootOptions {
  qemuBinary: string;
  kernel?: string;
  initrd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const KERNEL_REACHED_INIT = /Freeing unused kernel|Run \/init|Run \/sbin\/init|Trying to unpack rootfs/;
const BIOS_REACHED_BOOT = /No bootable device|Booting from/;

/** Boot briefly under KVM; true when the guest got far enough. The test VM is always stopped. */
export async function kvmWorks(o: TestBootOptions): Promise<boolean> {
  const argv = [o.qemuBinary, "-accel", "kvm", "-cpu", "host", "-M", "pc", "-m", "256", "-nodefaults", "-display", "none", "-no-reboot"];
  let pattern: RegExp;
  if (o.kernel) {
    argv.push("-serial", "stdio", "-kernel", o.kernel, "-append", "console=ttyS0 panic=-1 earlyprintk=ttyS0");
    if (o.initrd) argv.push("-initrd", o.initrd);
    pattern = KERNEL_REACHED_INIT;
  } else {
    argv.push("-chardev", "stdio,id=bios", "-device", "isa-debugcon,iobase=0x402,chardev=bios");
    pattern = BIOS_REACHED_BOOT;
  }
  let seen = "";
  let resolveSeen!: (ok: boolean) => void;
  const reached = new Promise<boolean>((r) => (resolveSeen = r));
  const decoder = new TextDecoder();
  const child = spawnChild(argv, {
    onStdout: (c) => {
      seen = (seen + decoder.decode(c, { stream: true })).slice(-4096);
      if (pattern.test(seen)) resolveSeen(true);
    },
    graceMs: 1000,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const timer = setTimeout(() => resolveSeen(false), o.timeoutMs ?? 8000);
  void child.done.then(() => resolveSeen(pattern.test(seen)));
  const ok = await reached;
  clearTimeout(timer);
  await child.stop(1000);
  if (o.signal?.aborted) throw new Error("cancelled");
  return ok;
}

/** One test boot per qemu binary and kernel in a process: parallel builds and later builds reuse it. */
const decided = new Map<string, Promise<Accelerator>>();

export function chooseAccelerator(o: TestBootOptions): Promise<Accelerator> {
  const key = `${o.qemuBinary}\0${o.kernel ?? ""}`;
  let choice = decided.get(key);
  if (!choice) {
    choice = kvmWorks(o).then((ok) => (ok ? "kvm" : "tcg"));
    decided.set(key, choice);
    // A cancelled test boot decides nothing.
    choice.catch(() => decided.delete(key));
  }
  return choice;
}

/** A kernel of the build host, for the test boot when the build boots a BIOS disk (a BIOS-only test is weak). */
export async function hostKernel(): Promise<string | undefined> {
  const names = (await readdir("/boot").catch(() => [] as string[])).filter((n) => n.startsWith("vmlinuz-"));
  const newest = names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).at(-1);
  return newest ? `/boot/${newest}` : undefined;
}
