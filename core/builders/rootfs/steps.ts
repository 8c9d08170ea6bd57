// The rootfs builder's steps: output dir, work dir, create the tree (mmdebstrap or a tarball),
// lend it the host's resolv.conf, connect (chroot), provision, give resolv.conf back, copy the
// kernel out, write the requested formats.
import { copyFile, mkdir, readdir, rename, rm, stat, lstat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { BuildState, Step } from "../types.ts";
import { run } from "../../process/child.ts";
import { lineSplitter } from "../../process/lines.ts";
import { hostAptMirror } from "./apt-mirror.ts";
import type { RootfsConfig } from "./config.ts";
import { removeTreeSafely } from "./safe-remove.ts";
import { stepTempDir } from "../common/machine-steps.ts";
import { autoDiskBytes, writeExt4, writeOciArchive, writeQcow2, writeTar } from "./outputs.ts";
import { missingBootableDiskTools, writeBootableDisk } from "./bootable-disk.ts";

/** What the rootfs steps share through one build. */
export interface RootfsRun {
  outputDir?: string;
  createdOutputDir?: boolean;
  workDir?: string;
  root?: string;
  files: string[];
  /** With a bootloader: the root file system's UUID on the disk. */
  rootUuid?: string;
  succeeded?: boolean;
}

/** Before anything slow runs: the tools the requested outputs need are on this host. */
export function stepCheckTools(c: RootfsConfig): Step {
  return {
    name: "StepCheckTools",
    async run() {
      const missing = c.bootloader === "syslinux" ? missingBootableDiskTools() : undefined;
      if (missing) throw new Error(missing);
    },
  };
}

export { stepOutputDir } from "../output-dir.ts";

export function stepWorkDir(r: RootfsRun): Step {
  return stepTempDir({
    name: "StepWorkDir",
    prefix: "imgb-rootfs-",
    set: (p) => {
      r.workDir = p;
      r.root = join(p, "root");
    },
    get: () => r.workDir,
    // The chroot's and mmdebstrap's mounts live in private namespaces; the check is a last guard.
    remove: removeTreeSafely,
    left: (p) => `the root file system stays in ${join(p, "root")}`,
  });
}

export function stepCreateRootfs(c: RootfsConfig, r: RootfsRun): Step {
  return {
    name: "StepCreateRootfs",
    async run(state) {
      const root = r.root!;
      const out = lineSplitter((l) => state.ui.message(l));
      if (c.source_tarball) {
        state.ui.say(`Extracting ${c.source_tarball}`);
        await mkdir(root);
        await run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", resolve(c.source_tarball), "-C", root], {
          signal: state.signal,
          onStderr: out.write,
        });
        return;
      }
      const mirror = c.mirror || (await hostAptMirror());
      if (!mirror) throw new Error('no apt mirror is configured on this host (/etc/apt/sources.list*); set "mirror"');
      state.ui.say(`Creating a ${c.variant} ${c.suite} root filesystem with mmdebstrap (mirror ${mirror})`);
      // In root mode mmdebstrap bind-mounts /dev, /proc and /sys into the tree; a private mount
      // namespace keeps those mounts off the host even if mmdebstrap is killed half way.
      const argv = ["unshare", "--mount", "--propagation=private", "--", "mmdebstrap", "--mode=root", `--variant=${c.variant}`, `--components=${c.components.join(",")}`];
      if (c.packages.length > 0) argv.push(`--include=${c.packages.join(",")}`);
      argv.push(...c.mmdebstrap_args, c.suite, root, mirror);
      await run(argv, { signal: state.signal, onStdout: out.write, onStderr: out.write, graceMs: 10_000 });
      out.flush();
    },
  };
}

const RESOLV = "etc/resolv.conf";
const RESOLV_SAVED = "etc/.imgb-resolv.conf.orig";

async function exists(path: string) {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

async function restoreResolvConf(root: string) {
  if (!(await exists(join(root, RESOLV_SAVED)))) return;
  await rm(join(root, RESOLV), { force: true });
  await rename(join(root, RESOLV_SAVED), join(root, RESOLV));
}

/** Provisioners need name resolution (apt-get): lend the host's resolv.conf, keep the original aside. */
export function stepLendResolvConf(r: RootfsRun): Step {
  return {
    name: "StepLendResolvConf",
    async run() {
      const root = r.root!;
      if (!(await exists("/etc/resolv.conf"))) return;
      await mkdir(join(root, "etc"), { recursive: true });
      if (await exists(join(root, RESOLV))) await rename(join(root, RESOLV), join(root, RESOLV_SAVED));
      else await copyFile("/dev/null", join(root, RESOLV_SAVED));
      await copyFile("/etc/resolv.conf", join(root, RESOLV));
    },
    async cleanup() {
      if (r.root) await restoreResolvConf(r.root);
    },
  };
}

export function stepRestoreResolvConf(r: RootfsRun): Step {
  return {
    name: "StepRestoreResolvConf",
    async run() {
      await restoreResolvConf(r.root!);
    },
  };
}

interface KernelFiles {
  version: string;
  kernel: string;
  initrd?: string;
}

/** The newest /boot/vmlinuz-* of the tree and its initrd, when there is one. */
async function newestKernel(root: string): Promise<KernelFiles | undefined> {
  const boot = join(root, "boot");
  const kernels = (await readdir(boot).catch(() => [] as string[])).filter((n) => n.startsWith("vmlinuz-")).sort(versionOrder);
  const kernel = kernels.at(-1);
  if (!kernel) return undefined;
  const version = kernel.slice("vmlinuz-".length);
  const initrd = join(boot, `initrd.img-${version}`);
  return { version, kernel: join(boot, kernel), ...((await exists(initrd)) ? { initrd } : {}) };
}

/** The kernel and initrd copied out, so the qemu builder can boot the image directly. */
export function stepExportKernel(c: RootfsConfig, r: RootfsRun): Step {
  return {
    name: "StepExportKernel",
    async run(state) {
      if (!c.export_kernel) return;
      const found = await newestKernel(r.root!);
      if (!found) return;
      const pairs: Array<[string, string]> = [[found.kernel, `${c.image_name}.vmlinuz`]];
      if (found.initrd) pairs.push([found.initrd, `${c.image_name}.initrd`]);
      for (const [from, to] of pairs) {
        await copyFile(from, join(r.outputDir!, to));
        r.files.push(join(r.outputDir!, to));
      }
      state.ui.message(`Kernel ${found.version} copied out`);
    },
  };
}

function versionOrder(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

export function stepWriteFormats(c: RootfsConfig, r: RootfsRun): Step {
  return {
    name: "StepWriteFormats",
    async run(state) {
      const root = r.root!;
      const out = (suffix: string) => join(r.outputDir!, `${c.image_name}.${suffix}`);
      const signal = state.signal;
      const wanted = new Set(c.formats);
      const say = (file: string) => state.ui.say(`Writing ${file}`);
      const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
      for (const [format, compression] of [["tar", "none"], ["tar.gz", "gz"], ["tar.zst", "zst"]] as const) {
        if (!wanted.has(format)) continue;
        say(out(format));
        await writeTar(root, out(format), compression, signal);
        r.files.push(out(format));
      }
      const bootable = c.bootloader === "syslinux";
      const wantsDisk = wanted.has("raw") || wanted.has("qcow2");
      // The bare file system: an output of its own, and without a bootloader also the disk's content.
      let ext4: string | undefined;
      if (wanted.has("ext4") || (wantsDisk && !bootable)) {
        const bytes = c.diskBytes ?? (await autoDiskBytes(root, signal));
        ext4 = wanted.has("ext4") ? out("ext4") : wanted.has("raw") ? out("raw") : join(r.workDir!, "disk.ext4");
        say(`${ext4} (${mib(bytes)})`);
        await writeExt4(root, ext4, bytes, signal);
        if (wanted.has("ext4")) r.files.push(ext4);
      }
      let disk: string | undefined;
      if (wantsDisk && bootable) {
        const kernel = await newestKernel(root);
        if (!kernel) throw new Error('bootloader = "syslinux" needs a kernel in the image\'s /boot: add linux-image-amd64 (or another kernel package) to packages');
        disk = wanted.has("raw") ? out("raw") : join(r.workDir!, "disk.raw");
        say(`${disk} (BIOS-bootable: syslinux, kernel ${kernel.version})`);
        const made = await writeBootableDisk({
          root,
          kernel: kernel.kernel,
          ...(kernel.initrd ? { initrd: kernel.initrd } : {}),
          out: disk,
          workDir: r.workDir!,
          ...(c.diskBytes !== undefined ? { diskBytes: c.diskBytes } : {}),
          autoRootBytes: () => autoDiskBytes(root, signal),
          kernelArgs: c.kernel_args,
          signal,
        });
        r.rootUuid = made.rootUuid;
        state.ui.message(`Partition 1: FAT boot (${mib(made.bootBytes)}); partition 2: ext4 root UUID=${made.rootUuid} (${mib(made.rootBytes)})`);
        state.ui.message(`Kernel command line: ${made.commandLine}`);
      } else if (wantsDisk) {
        disk = ext4;
        // Without ext4 in formats the raw disk was written under its own name above.
        if (wanted.has("raw") && wanted.has("ext4")) await run(["cp", "--sparse=always", ext4!, out("raw")], { signal });
      }
      if (wanted.has("raw")) r.files.push(out("raw"));
      if (wanted.has("qcow2")) {
        say(out("qcow2"));
        await writeQcow2(disk!, out("qcow2"), signal);
        r.files.push(out("qcow2"));
      }
      for (const scratch of [join(r.workDir!, "disk.ext4"), join(r.workDir!, "disk.raw")]) await rm(scratch, { force: true });
      if (wanted.has("oci")) {
        say(`${out("oci.tar")} (${c.image_ref})`);
        await writeOciArchive(root, out("oci.tar"), c.image_ref, r.workDir!, signal);
        r.files.push(out("oci.tar"));
      }
      for (const f of r.files) state.ui.message(`${f}: ${(await stat(f)).size} bytes`);
      r.succeeded = true;
    },
  };
}
