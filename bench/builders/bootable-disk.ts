// Writes a BIOS-bootable disk from a root file system tree, as the rootfs builder does with
// bootloader = "syslinux": `bun bench/builders/bootable-disk.ts TREE OUT.raw`. The tree needs a
// kernel in /boot. bench/builders/run-disk.sh times it against mkfs.ext4 -d of the same tree.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeBootableDisk } from "../../core/builders/rootfs/bootable-disk.ts";
import { autoDiskBytes } from "../../core/builders/rootfs/outputs.ts";

const [root, out] = process.argv.slice(2);
if (!root || !out) throw new Error("usage: bootable-disk.ts TREE OUT.raw");
const kernel = (await readdir(join(root, "boot"))).filter((n) => n.startsWith("vmlinuz-")).sort().at(-1);
if (!kernel) throw new Error(`no kernel in ${root}/boot`);
const signal = new AbortController().signal;
const workDir = await mkdtemp(join(tmpdir(), "imgb-bench-disk-"));
try {
  await writeBootableDisk({
    root,
    kernel: join(root, "boot", kernel),
    initrd: join(root, "boot", kernel.replace("vmlinuz-", "initrd.img-")),
    out,
    workDir,
    autoRootBytes: () => autoDiskBytes(root, signal),
    kernelArgs: "console=ttyS0",
    signal,
  });
} finally {
  await rm(workDir, { recursive: true, force: true });
}
