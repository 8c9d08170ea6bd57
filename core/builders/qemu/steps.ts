// The qemu builder's steps: output dir, work dir, base disk (checksum, overlay), accelerator, port,
// run the VM, connect over SSH, provision, shut down, write the disk. The VM is a child process we
// wait on; cleanup stops it (TERM, then KILL) whatever happened.
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BuildState, Step } from "../types.ts";
import type { Communicator } from "../../communicator/types.ts";
import { noneCommunicator } from "../../communicator/types.ts";
import { connectSsh, sshGeneratedValues } from "../../communicator/ssh/index.ts";
import { spawnChild, type Child } from "../../process/child.ts";
import { chooseAccelerator, type Accelerator } from "./accelerator.ts";
import { qemuArgv } from "./command-line.ts";
import type { QemuConfig } from "./config.ts";
import { checkDisk, createOverlay, finishDisk, imageInfo, localPath, verifyChecksum } from "./disk.ts";

/** What the qemu steps share through one build. */
export interface QemuRun {
  outputDir?: string;
  createdOutputDir?: boolean;
  workDir?: string;
  overlay?: string;
  /** The image the overlay sits on, for the accelerator's test boot. */
  base?: { path: string; format: string };
  accelerator?: Accelerator | "none";
  hostPort?: number;
  vm?: Child;
  /** Aborted when the VM exits, so waiting for SSH stops at once. */
  vmGone?: AbortController;
  diskFile?: string;
  succeeded?: boolean;
}

export { stepOutputDir } from "../output-dir.ts";

export function stepWorkDir(r: QemuRun): Step {
  return {
    name: "StepWorkDir",
    async run() {
      r.workDir = await mkdtemp(join(tmpdir(), "imgb-qemu-"));
    },
    async cleanup() {
      if (r.workDir) await rm(r.workDir, { recursive: true, force: true });
    },
    abandon: () => (r.workDir ? `the VM's disk overlay and console log stay in ${r.workDir}` : undefined),
  };
}

export function stepPrepareDisk(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepPrepareDisk",
    async run(state) {
      const base = localPath(c.iso_url);
      if (c.iso_checksum !== "none") {
        state.ui.say(`Verifying checksum of ${base}`);
        await verifyChecksum(base, c.iso_checksum);
      }
      const info = await imageInfo(base, state.signal).catch((err: unknown) => {
        throw new Error(`cannot read disk image ${base}: ${err instanceof Error ? err.message : String(err)}`);
      });
      let size: number | undefined;
      if (c.diskBytes !== undefined) {
        if (c.diskBytes > info["virtual-size"]) size = c.diskBytes;
        else if (c.diskBytes < info["virtual-size"]) state.ui.error(`disk_size ${c.disk_size} is smaller than the image; keeping the image's size`);
      }
      r.base = { path: base, format: info.format };
      r.overlay = join(r.workDir!, "disk.qcow2");
      state.ui.say(`Creating a qcow2 overlay on ${base} (${info.format})${size ? `, grown to ${c.disk_size}` : ""}`);
      await createOverlay(base, info.format, r.overlay, size, state.signal);
    },
  };
}

export function stepAccelerator(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepAccelerator",
    async run(state) {
      if (c.accelerator) {
        r.accelerator = c.accelerator as Accelerator | "none";
        return;
      }
      const probe = await chooseAccelerator({
        qemuBinary: c.qemu_binary,
        ...(c.kernel ? { kernel: c.kernel, ...(c.initrd ? { initrd: c.initrd } : {}) } : { disk: r.base! }),
        signal: state.signal,
      });
      r.accelerator = probe.works ? "kvm" : "tcg";
      state.ui.say(
        probe.works
          ? `KVM works: under KVM ${probe.reason}`
          : `KVM does not work here (${probe.reason}): using TCG; set accelerator = "kvm" to insist`,
      );
    },
  };
}

/** A free TCP port in [min, max] on 127.0.0.1, tried in random order. */
export async function freePort(min: number, max: number, avoid: Set<number>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (avoid.has(port)) continue;
    const free = await new Promise<boolean>((done) => {
      const server = createServer();
      server.once("error", () => done(false));
      server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${min} and ${max} on 127.0.0.1`);
}

const PORT_TAKEN = /Could not set up host forwarding rule/;

export function stepRunVm(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepRunVm",
    async run(state) {
      const tried = new Set<number>();
      for (let attempt = 0; attempt < 5; attempt++) {
        r.hostPort = await freePort(c.host_port_min, c.host_port_max, tried);
        tried.add(r.hostPort);
        const argv = qemuArgv(c, {
          disk: r.overlay!,
          hostPort: r.hostPort,
          guestPort: c.ssh?.port ?? 22,
          consoleLog: join(r.workDir!, "console.log"),
          accelerator: r.accelerator!,
        });
        state.ui.say(`Starting VM (${r.accelerator}), SSH forwarded from 127.0.0.1:${r.hostPort}`);
        state.ui.message(`Qemu command: ${argv.join(" ")}`);
        const vmGone = new AbortController();
        const vm = spawnChild(argv, { graceMs: 10_000 });
        void vm.done.then(() => vmGone.abort());
        // A port taken between the probe and qemu's bind makes qemu exit at once: try another.
        const early = await Promise.race([vm.done, Bun.sleep(1500).then(() => undefined)]);
        if (early) {
          if (PORT_TAKEN.test(early.stderrTail)) continue;
          throw new Error(`qemu exited at once (status ${early.exitCode ?? early.signalCode}): ${early.stderrTail.trim()}`);
        }
        r.vm = vm;
        r.vmGone = vmGone;
        return;
      }
      throw new Error("qemu could not bind a forwarded port after 5 tries");
    },
    async cleanup(state) {
      if (r.vm?.running()) {
        state.ui.say("Stopping the VM");
        await r.vm.stop(10_000);
      }
      r.vm = undefined;
    },
    abandon() {
      if (!r.vm?.running()) return undefined;
      r.vm.detach();
      return `the VM stays running (qemu pid ${r.vm.pid}, SSH on 127.0.0.1:${r.hostPort}); stop it with: kill ${r.vm.pid}`;
    },
  };
}

export function stepBootWait(c: QemuConfig): Step {
  return {
    name: "StepBootWait",
    async run(state) {
      if (c.bootWaitMs <= 0) return;
      state.ui.say(`Waiting ${c.boot_wait} for boot...`);
      await new Promise<void>((done, fail) => {
        const t = setTimeout(done, c.bootWaitMs);
        state.signal.addEventListener("abort", () => (clearTimeout(t), fail(new Error("cancelled"))), { once: true });
      });
    },
  };
}

async function consoleTail(r: QemuRun): Promise<string> {
  const text = await readFile(join(r.workDir!, "console.log"), "utf8").catch(() => "");
  return text.split("\n").slice(-15).join("\n");
}

export function stepConnectVm(c: QemuConfig, r: QemuRun): Step {
  let comm: Communicator | undefined;
  return {
    name: "StepConnect",
    async run(state) {
      if (c.communicator === "none" || !c.ssh) {
        state.communicator = comm = noneCommunicator();
        return;
      }
      const ssh = { ...c.ssh, port: r.hostPort! };
      for (const [k, v] of Object.entries(sshGeneratedValues(ssh))) state.setGenerated(k, v);
      state.ui.say(`Waiting for SSH on 127.0.0.1:${r.hostPort} (ssh_timeout ${c.ssh.timeoutMs / 1000}s)...`);
      const signal = AbortSignal.any([state.signal, r.vmGone!.signal]);
      const started = performance.now();
      try {
        comm = await connectSsh(ssh, state.ui, signal);
      } catch (err) {
        if (r.vmGone!.signal.aborted && !state.signal.aborted) {
          const res = await r.vm!.done;
          throw new Error(`the VM stopped before SSH answered (qemu status ${res.exitCode ?? res.signalCode}): ${res.stderrTail.trim()}\nconsole:\n${await consoleTail(r)}`);
        }
        throw err;
      }
      state.ui.say(`Connected to SSH after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      state.communicator = comm;
    },
    async cleanup(state) {
      state.communicator = undefined;
      await comm?.close();
      comm = undefined;
    },
  };
}

export function stepShutdown(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepShutdown",
    async run(state) {
      const vm = r.vm!;
      if (!c.shutdown_command || !state.communicator || state.communicator.type === "none") {
        state.ui.say("Halting the virtual machine...");
        await vm.stop(10_000);
        return;
      }
      state.ui.say("Gracefully halting virtual machine...");
      // The command usually ends with the connection; its result does not matter, the VM's exit does.
      void state.communicator.start({ command: c.shutdown_command }, state.signal).catch(() => undefined);
      const timedOut = Symbol("timeout");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        vm.done,
        new Promise<typeof timedOut>((done) => (timer = setTimeout(() => done(timedOut), c.shutdownTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (outcome === timedOut) throw new Error("Timeout while waiting for machine to shut down.");
      state.ui.message("VM shut down.");
    },
  };
}

export function stepWriteDisk(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepWriteDisk",
    async run(state) {
      r.diskFile = join(r.outputDir!, c.vm_name);
      state.ui.say(
        c.use_backing_file ? `Keeping the overlay as ${r.diskFile}` : `Writing ${c.format} disk ${r.diskFile} (flattened)`,
      );
      await finishDisk(r.overlay!, r.diskFile, {
        format: c.format,
        keepOverlay: c.use_backing_file,
        compress: c.disk_compression,
        signal: state.signal,
      });
      await checkDisk(r.diskFile, c.format, state.signal);
      state.ui.message(`qemu-img check: ${c.format === "qcow2" ? "no errors" : "raw, nothing to check"}`);
      r.succeeded = true;
    },
  };
}
