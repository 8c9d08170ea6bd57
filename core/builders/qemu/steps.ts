// The qemu builder's steps: output dir, work dir, base disk (checksum, overlay), accelerator, port,
// run the VM, connect over SSH, provision, shut down, write the disk. The VM is a child process we
// wait on; cleanup stops it (TERM, then KILL) whatever happened.
import { copyFile, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type { BuildState, Step } from "../types.ts";
import type { Communicator } from "../../communicator/types.ts";
import { noneCommunicator } from "../../communicator/types.ts";
import { connectSsh, preloadSshRuntime, sshGeneratedValues } from "../../communicator/ssh/index.ts";
import { run, spawnChild, type Child } from "../../process/child.ts";
import { chooseAccelerator, type Accelerator } from "./accelerator.ts";
import { qemuArgv } from "./command-line.ts";
import type { JsonValue } from "../../values/json.ts";
import { bootSteps, sleep } from "../common/boot-command.ts";
import { stepTypeBootCommand } from "../common/steps.ts";
import { stepConnect, stepTempDir } from "../common/machine-steps.ts";
import type { QemuConfig } from "./config.ts";
import { checkDisk, createBlankDisk, createOverlay, finishDisk, imageInfo } from "./disk.ts";
import { QmpClient } from "./qmp.ts";
import { renderPluginTemplate } from "../../plugin/host/template-adapter.ts";
import { Cancelled } from "../../errors/cancelled.ts";

/** What the qemu steps share through one build. */
export interface QemuRun {
  outputDir?: string;
  createdOutputDir?: boolean;
  workDir?: string;
  overlay?: string;
  /** disk_additional_size disks, in the work folder. */
  extraDisks?: string[];
  /** The downloaded (or local) iso_url. */
  isoPath?: string;
  cdPath?: string;
  floppyPath?: string;
  httpPort?: number;
  vncPort?: number;
  vncPassword?: string;
  qmpSocket?: string;
  efiVars?: string;
  tpmSocket?: string;
  /** The image the overlay sits on, for the accelerator's test boot. */
  base?: { path: string; format: string };
  accelerator?: Accelerator | "none";
  hostPort?: number;
  vm?: Child;
  /** Aborted when the VM exits, so waiting for SSH stops at once. */
  vmGone?: AbortController;
  diskFile?: string;
  /** Additional disks and efivars.fd, written beside the disk. */
  extraFiles?: string[];
  succeeded?: boolean;
}

export { stepOutputDir } from "../output-dir.ts";

export function stepWorkDir(r: QemuRun): Step {
  return stepTempDir({
    name: "StepWorkDir",
    prefix: "imgb-qemu-",
    set: (p) => (r.workDir = p),
    get: () => r.workDir,
    left: (p) => `the VM's disk overlay and console log stay in ${p}`,
  });
}

export function stepPrepareDisk(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepPrepareDisk",
    async run(state) {
      r.overlay = join(r.workDir!, "disk.qcow2");
      r.extraDisks = [];
      for (const [i, bytes] of c.additionalDiskBytes.entries()) {
        const extra = join(r.workDir!, `disk-${i + 1}.qcow2`);
        await createBlankDisk(extra, bytes, c.qemu_img_args.create, state.signal);
        r.extraDisks.push(extra);
      }
      if (!c.disk_image) {
        state.ui.say(`Creating a ${c.disk_size} disk`);
        await createBlankDisk(r.overlay, c.diskBytes!, c.qemu_img_args.create, state.signal);
        return;
      }
      const base = r.isoPath!;
      const info = await imageInfo(base, state.signal).catch((err: unknown) => {
        throw new Error(`cannot read disk image ${base}: ${err instanceof Error ? err.message : String(err)}`);
      });
      let size: number | undefined;
      if (c.diskBytes !== undefined && !c.skip_resize_disk) {
        if (c.diskBytes > info["virtual-size"]) size = c.diskBytes;
        else if (c.diskBytes < info["virtual-size"]) state.ui.error(`disk_size ${c.disk_size} is smaller than the image; keeping the image's size`);
      }
      r.base = { path: base, format: info.format };
      state.ui.say(`Creating a qcow2 overlay on ${base} (${info.format})${size ? `, grown to ${c.disk_size}` : ""}`);
      // qemu_img_args.resize: the overlay is made at the image's size, then resized with them.
      const resizeArgs = c.qemu_img_args.resize;
      await createOverlay(base, info.format, r.overlay, resizeArgs.length > 0 ? undefined : size, state.signal);
      if (size !== undefined && resizeArgs.length > 0) {
        await run(["qemu-img", "resize", "-q", ...resizeArgs, r.overlay, String(size)], { signal: state.signal });
      }
    },
  };
}

/** Packer's StepPrepareEfivars: a writable copy of the firmware's variable store for this VM. */
export function stepPrepareEfivars(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepPrepareEfivars",
    async run(state) {
      if (!c.efi_boot) return;
      r.efiVars = join(r.workDir!, "efivars.fd");
      await copyFile(c.efi_firmware_vars, r.efiVars).catch((err: unknown) => {
        throw new Error(`efi_firmware_vars ${c.efi_firmware_vars}: ${err instanceof Error ? err.message : String(err)} (Debian's ovmf package has the defaults)`);
      });
      state.ui.message(`EFI firmware ${c.efi_firmware_code}, variables copied from ${c.efi_firmware_vars}`);
    },
  };
}

/** Packer's StepCreateVTPM: swtpm serving the VM's TPM over a unix socket; stopped in cleanup. */
export function stepCreateVtpm(c: QemuConfig, r: QemuRun): Step {
  let swtpm: Child | undefined;
  return {
    name: "StepCreateVTPM",
    async run(state) {
      if (!c.vtpm) return;
      const dir = join(r.workDir!, "tpm");
      await Bun.write(join(dir, ".keep"), "");
      r.tpmSocket = join(dir, "swtpm.sock");
      const argv = ["swtpm", "socket", "--tpmstate", `dir=${dir}`, "--ctrl", `type=unixio,path=${r.tpmSocket}`, "--terminate"];
      if (!c.use_tpm1) argv.push("--tpm2");
      state.ui.say(`Starting swtpm (TPM ${c.use_tpm1 ? "1.2" : "2.0"})`);
      swtpm = spawnChild(argv, { graceMs: 2000 });
      for (let i = 0; i < 50 && !(await Bun.file(r.tpmSocket).exists()); i++) {
        const early = await Promise.race([swtpm.done, Bun.sleep(100).then(() => undefined)]);
        if (early) throw new Error(`swtpm exited at once: ${early.stderrTail.trim()}`);
      }
    },
    async cleanup() {
      if (swtpm?.running()) await swtpm.stop(2000);
      swtpm = undefined;
    },
    abandon() {
      if (!swtpm?.running()) return undefined;
      swtpm.detach();
      return `swtpm stays running with the VM (pid ${swtpm.pid}; it exits when qemu does)`;
    },
  };
}

/** Packer's StepConfigureVNC: a free port for the VM's screen, and a password when asked. */
export function stepConfigureVnc(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepConfigureVNC",
    async run(state) {
      if (c.disable_vnc) return;
      r.vncPort = await freePort(c.vnc_port_min, c.vnc_port_max, new Set(), c.vnc_bind_address);
      if (c.vnc_use_password) r.vncPassword = randomPassword(8);
      state.ui.say(`Found available VNC port: ${r.vncPort} on IP: ${c.vnc_bind_address}`);
    },
  };
}

function randomPassword(n: number): string {
  const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => alphabet[b % alphabet.length]).join("");
}

export function stepAccelerator(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepAccelerator",
    async run(state) {
      if (c.accelerator) {
        r.accelerator = c.accelerator as Accelerator | "none";
        return;
      }
      if (!c.kernel && !r.base) {
        // An installer has no kernel to test-boot before it is typed at: /dev/kvm decides.
        const kvm = await Bun.file("/dev/kvm").exists();
        r.accelerator = kvm ? "kvm" : "tcg";
        state.ui.say(kvm ? "Using KVM (/dev/kvm is there); set accelerator = \"tcg\" where KVM is broken" : "No /dev/kvm: using TCG");
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
export async function freePort(min: number, max: number, avoid: Set<number>, host = "127.0.0.1"): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (avoid.has(port)) continue;
    const free = await new Promise<boolean>((done) => {
      const server = createServer();
      server.once("error", () => done(false));
      server.listen(port, host, () => server.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${min} and ${max} on ${host}`);
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
        r.qmpSocket = join(r.workDir!, "qmp.sock");
        const layout = {
          disks: [r.overlay!, ...(r.extraDisks ?? [])],
          hostPort: r.hostPort,
          guestPort: c.ssh?.port ?? 22,
          consoleLog: join(r.workDir!, "console.log"),
          accelerator: r.accelerator!,
          qmpSocket: r.qmpSocket,
          ...(c.disk_image ? {} : { iso: r.isoPath! }),
          ...(r.cdPath ? { cd: r.cdPath } : {}),
          ...(r.floppyPath ? { floppy: r.floppyPath } : {}),
          ...(r.vncPort ? { vncPort: r.vncPort, vncPassword: Boolean(r.vncPassword) } : {}),
          ...(r.efiVars ? { efiVars: r.efiVars } : {}),
          ...(r.tpmSocket ? { tpmSocket: r.tpmSocket } : {}),
        };
        if (c.qemuargs.length > 0) state.ui.say("Overriding default Qemu arguments with qemuargs template option...");
        const rendered = c.qemuargs.map((row) => row.map((arg) => renderPluginTemplate(arg, qemuArgsData(c, r), state.build, state.templateDir)));
        const argv = qemuArgv(c, layout, rendered);
        state.ui.say(
          `Starting VM (${r.accelerator}), ${c.disk_image || c.kernel ? "booting disk image" : "booting from CD-ROM"}` +
            (c.communicator === "none" ? "" : `, SSH forwarded from 127.0.0.1:${r.hostPort}`),
        );
        if (r.vncPort) {
          state.ui.message(
            `The VM's screen is on VNC: vnc://${c.vnc_bind_address}:${r.vncPort}${r.vncPassword ? ` with the password: ${r.vncPassword}` : " (no password)"}`,
          );
        }
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
        if (r.vncPassword) {
          const qmp = await QmpClient.connect(r.qmpSocket, state.signal);
          try {
            await qmp.execute("change-vnc-password", { password: r.vncPassword });
          } finally {
            qmp.close();
          }
        }
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

/** Dot data of qemuargs (Packer's qemuArgsTemplateData). */
function qemuArgsData(c: QemuConfig, r: QemuRun): Record<string, JsonValue> {
  return {
    HTTPIP: httpIp(c),
    HTTPPort: r.httpPort ?? 0,
    HTTPDir: c.http_directory,
    HTTPContent: c.http_content,
    OutputDir: c.output_directory,
    Name: c.vm_name,
    SSHHostPort: c.communicator === "none" ? 0 : (r.hostPort ?? 0),
  };
}

/** The address the guest reaches the host's HTTP server at: QEMU's user-network gateway, or the bridge's. */
export function httpIp(c: QemuConfig): string {
  if (!c.net_bridge) return "10.0.2.2";
  return bridgeAddress(c.net_bridge) ?? "0.0.0.0";
}

function bridgeAddress(bridge: string): string | undefined {
  const out = Bun.spawnSync(["ip", "-j", "-4", "addr", "show", "dev", bridge]);
  if (out.exitCode !== 0) return undefined;
  try {
    const parsed = JSON.parse(out.stdout.toString()) as Array<{ addr_info?: Array<{ local?: string }> }>;
    return parsed[0]?.addr_info?.[0]?.local;
  } catch {
    return undefined;
  }
}

/** Types the boot command through QEMU's monitor (QMP input-send-event); see docs/PACKER-DIFFERENCES.md. */
export function stepTypeBootCommandQemu(c: QemuConfig, r: QemuRun): Step {
  const gone = new AbortController();
  const step = stepTypeBootCommand({
    boot_command: c.boot_command,
    boot_steps: c.boot_steps,
    bootWaitMs: c.bootWaitMs,
    ...(c.keyIntervalMs !== undefined ? { keyIntervalMs: c.keyIntervalMs } : {}),
    defaultIntervalMs: DEFAULT_KEY_INTERVAL_MS,
    via: "QEMU's monitor (QMP)",
    connect: (state) => QmpClient.connect(r.qmpSocket!, state.signal),
    data: () => ({ HTTPIP: httpIp(c), HTTPPort: r.httpPort ?? 0, Name: c.vm_name, SSHPublicKey: c.ssh?.temporaryPublicKey ?? "" }),
    machineGone: gone.signal,
  });
  return {
    ...step,
    run(state) {
      r.vmGone?.signal.addEventListener("abort", () => gone.abort(), { once: true });
      return step.run(state);
    },
  };
}

/** Time after each key event; QMP events are queued by QEMU, so this is far below VNC's 100 ms. */
export const DEFAULT_KEY_INTERVAL_MS = 10;

async function consoleTail(r: QemuRun): Promise<string> {
  const text = await readFile(join(r.workDir!, "console.log"), "utf8").catch(() => "");
  return text.split("\n").slice(-15).join("\n");
}

const SSH_ATTEMPT_TIMEOUT_MS = 10_000;

export function stepConnectVm(c: QemuConfig, r: QemuRun): Step {
  if (c.communicator === "ssh") preloadSshRuntime();
  return stepConnect(async (state): Promise<Communicator> => {
    if (c.communicator === "none" || !c.ssh) return noneCommunicator();
    if (c.pauseBeforeConnectingMs > 0) {
      state.ui.say(`Waiting ${c.pause_before_connecting} before connecting...`);
      await sleep(c.pauseBeforeConnectingMs, state.signal);
    }
    // Through QEMU's user network the port accepts before the guest listens: retry attempts soon.
    const ssh = { ...c.ssh, port: r.hostPort!, ...(c.net_bridge ? {} : { attemptTimeoutMs: SSH_ATTEMPT_TIMEOUT_MS }) };
    for (const [k, v] of Object.entries(sshGeneratedValues(ssh))) state.setGenerated(k, v);
    state.ui.say(`Waiting for SSH on 127.0.0.1:${r.hostPort} (ssh_timeout ${c.ssh.timeoutMs / 1000}s)...`);
    const signal = AbortSignal.any([state.signal, r.vmGone!.signal]);
    const started = performance.now();
    try {
      const comm = await connectSsh(ssh, state.ui, signal);
      state.ui.say(`Connected to SSH after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return comm;
    } catch (err) {
      if (r.vmGone!.signal.aborted && !state.signal.aborted) {
        const res = await r.vm!.done;
        throw new Error(`the VM stopped before SSH answered (qemu status ${res.exitCode ?? res.signalCode}): ${res.stderrTail.trim()}\nconsole:\n${await consoleTail(r)}`);
      }
      throw err;
    }
  });
}

export function stepShutdown(c: QemuConfig, r: QemuRun): Step {
  return {
    name: "StepShutdown",
    async run(state) {
      const vm = r.vm!;
      if (c.communicator === "none" && bootSteps(c.boot_command, c.boot_steps).length > 0) {
        // Packer: an installer with no communicator powers the machine off itself.
        state.ui.say("Waiting for shutdown...");
        const outcome = await waitForExit(vm, c.shutdownTimeoutMs, state.signal);
        if (!outcome) throw new Error("Failed to shutdown");
        state.ui.message("VM shut down.");
        return;
      }
      if (!c.shutdown_command || !state.communicator || state.communicator.type === "none") {
        state.ui.say("Halting the virtual machine...");
        await vm.stop(10_000);
        return;
      }
      state.ui.say("Gracefully halting virtual machine...");
      // The command usually ends with the connection; its result does not matter, the VM's exit does.
      void state.communicator.start({ command: c.shutdown_command }, state.signal).catch(() => undefined);
      if (!(await waitForExit(vm, c.shutdownTimeoutMs, state.signal))) throw new Error("Timeout while waiting for machine to shut down.");
      state.ui.message("VM shut down.");
    },
  };
}

/** True when the VM exited within `ms`. */
async function waitForExit(vm: Child, ms: number, signal: AbortSignal): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const outcome = await Promise.race([
    vm.done.then(() => true),
    new Promise<boolean>((done) => (timer = setTimeout(() => done(false), ms))),
    new Promise<boolean>((_, fail) => {
      onAbort = () => fail(new Cancelled("cancelled"));
      signal.addEventListener("abort", onAbort, { once: true });
    }),
  ]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  });
  return outcome;
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
        convertArgs: c.qemu_img_args.convert,
        signal: state.signal,
      });
      await checkDisk(r.diskFile, c.format, state.signal);
      state.ui.message(`qemu-img check: ${c.format === "qcow2" ? "no errors" : "raw, nothing to check"}`);
      r.extraFiles = [];
      for (const [i, extra] of (r.extraDisks ?? []).entries()) {
        const out = join(r.outputDir!, `${c.vm_name}-${i + 1}`);
        await finishDisk(extra, out, { format: c.format, keepOverlay: false, compress: c.disk_compression, convertArgs: c.qemu_img_args.convert, signal: state.signal });
        r.extraFiles.push(out);
      }
      if (r.efiVars && !c.efi_drop_efivars) {
        const out = join(r.outputDir!, "efivars.fd");
        await copyFile(r.efiVars, out);
        r.extraFiles.push(out);
      }
      r.succeeded = true;
    },
  };
}
