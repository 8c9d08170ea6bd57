// Whether KVM works is learnt by booting, never from /dev/kvm: on nested or restricted hosts the
// device opens fine and guests then spin (a kernel stops after its decompressor) or abort (qemu
// cannot set the host CPU's MSRs). The test boot runs what the build itself will run under KVM:
// the build's kernel when it boots one directly, otherwise its own disk (read-only, through
// SeaBIOS and the disk's boot loader). KVM counts as working only once that kernel reaches the
// hand-over to init on the serial console, which takes a second or two when KVM works.
import { spawnChild } from "../../process/child.ts";
import { Cancelled } from "../../errors/cancelled.ts";

export type Accelerator = "kvm" | "tcg";

export interface TestBootOptions {
  qemuBinary: string;
  kernel?: string;
  initrd?: string;
  /** Without a kernel: the disk the build boots, and its format. Never written (snapshot=on). */
  disk?: { path: string; format: string };
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The accelerator under test: kvm, except in tests of the probe itself. */
  accel?: Accelerator;
}

export interface TestBootResult {
  works: boolean;
  /** Why, with the time it took, for the build's UI. */
  reason: string;
}

const KERNEL_REACHED_INIT = /Freeing unused kernel|Run \/init|Run \/sbin\/init|Trying to unpack rootfs/;
const KERNEL_TEST_TIMEOUT_MS = 8000;
/** SeaBIOS and a boot loader reading the initrd come before the kernel: a little longer. */
const DISK_TEST_TIMEOUT_MS = 15_000;

export function testBootArgv(o: TestBootOptions): string[] {
  const accel = o.accel ?? "kvm";
  const argv = [o.qemuBinary, "-accel", accel, ...(accel === "kvm" ? ["-cpu", "host"] : []), "-M", "pc", "-m", "512"];
  argv.push("-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio");
  if (o.kernel) {
    argv.push("-kernel", o.kernel, "-append", "console=ttyS0 panic=-1 earlyprintk=ttyS0");
    if (o.initrd) argv.push("-initrd", o.initrd);
  } else if (o.disk) {
    argv.push("-drive", `file=${o.disk.path},format=${o.disk.format},if=virtio,snapshot=on`);
  } else {
    throw new Error("a test boot needs a kernel or a disk");
  }
  return argv;
}

/** Boot briefly; works when the guest's kernel reached init in time. The test VM is always stopped. */
export async function testBoot(o: TestBootOptions): Promise<TestBootResult> {
  const started = performance.now();
  const timeoutMs = o.timeoutMs ?? (o.kernel ? KERNEL_TEST_TIMEOUT_MS : DISK_TEST_TIMEOUT_MS);
  let seen = "";
  let settle!: (why: "reached" | "timeout" | "exited") => void;
  const outcome = new Promise<"reached" | "timeout" | "exited">((r) => (settle = r));
  const decoder = new TextDecoder();
  const child = spawnChild(testBootArgv(o), {
    onStdout: (c) => {
      seen = (seen + decoder.decode(c, { stream: true })).slice(-8192);
      if (KERNEL_REACHED_INIT.test(seen)) settle("reached");
    },
    graceMs: 1000,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const timer = setTimeout(() => settle("timeout"), timeoutMs);
  void child.done.then(() => settle(KERNEL_REACHED_INIT.test(seen) ? "reached" : "exited"));
  const how = await outcome;
  clearTimeout(timer);
  const result = await child.stop(1000);
  if (o.signal?.aborted) throw new Cancelled("cancelled");
  const ms = Math.round(performance.now() - started);
  const what = o.kernel ? "the kernel" : "the disk";
  if (how === "reached") return { works: true, reason: `${what} reached init in ${ms} ms` };
  if (how === "exited") {
    const last = result.stderrTail.trim().split("\n").at(-1) ?? "";
    return { works: false, reason: `qemu stopped during the test boot of ${what}${last ? `: ${last}` : ""}` };
  }
  const silent = !/Linux version/.test(seen);
  return {
    works: false,
    reason: silent && !o.kernel
      ? `the disk's kernel printed nothing on the serial console within ${timeoutMs / 1000} s (a hang, or no console=ttyS0 on its command line)`
      : `${what} did not reach init within ${timeoutMs / 1000} s`,
  };
}

/** One test boot per qemu binary and kernel or disk in a process: parallel and later builds reuse it. */
const decided = new Map<string, Promise<TestBootResult>>();

export function chooseAccelerator(o: TestBootOptions): Promise<TestBootResult> {
  const key = `${o.qemuBinary}\0${o.accel ?? "kvm"}\0${o.kernel ?? ""}\0${o.disk?.path ?? ""}`;
  let choice = decided.get(key);
  if (!choice) {
    choice = testBoot(o);
    decided.set(key, choice);
    // A cancelled test boot decides nothing.
    choice.catch(() => decided.delete(key));
  }
  return choice;
}
