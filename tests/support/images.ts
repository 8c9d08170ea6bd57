// Base images the builder tests need, made locally (no registry is reachable) once and cached:
// a minbase Debian tarball (mmdebstrap), a podman image imported from it, and a bootable guest for
// the qemu tests (the qemu-debian example's first step). The cache lives in IMGB_TEST_CACHE or
// $TMPDIR/imgb-test-cache; each entry's name carries its recipe version (the guest's: a hash of its
// recipe), so a changed recipe rebuilds. Within one `bun test` process each image is made at most once.
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run, runText, spawnChild } from "../../core/process/child.ts";
import { runImgb } from "./binary.ts";
import { hostAptMirror } from "../../core/builders/rootfs/apt-mirror.ts";

export const SUITE = "bookworm";
export const BASE_IMAGE = "localhost/imgb-test/debian:bookworm-v1";

export function cacheDir(): string {
  return process.env.IMGB_TEST_CACHE ?? join(tmpdir(), "imgb-test-cache");
}

const memo = new Map<string, Promise<string>>();
function once(key: string, make: () => Promise<string>): Promise<string> {
  let p = memo.get(key);
  if (!p) {
    p = make();
    memo.set(key, p);
  }
  return p;
}

export async function mirror(): Promise<string> {
  const m = await hostAptMirror();
  if (!m) throw new Error("no apt mirror configured in /etc/apt: the rootfs tests need one");
  return m;
}

/** Build `path` with `make(tmpPath)` unless it exists; the rename makes a half-made file invisible. */
export async function cachedFile(name: string, make: (tmpPath: string) => Promise<void>): Promise<string> {
  return once(`file:${name}`, async () => {
    await mkdir(cacheDir(), { recursive: true });
    const path = join(cacheDir(), name);
    if (existsSync(path)) return path;
    // Same extension as the final name: tools such as mmdebstrap pick the format from it.
    const tmp = join(cacheDir(), `partial-${process.pid}-${name}`);
    await rm(tmp, { recursive: true, force: true });
    try {
      await make(tmp);
      await rename(tmp, path);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return path;
  });
}

/** Debian minbase as a tarball (~13 s to make, ~170 MB). */
export function debianMinbaseTarball(): Promise<string> {
  return cachedFile(`debian-${SUITE}-minbase-v1.tar`, async (tmp) => {
    await run(["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root", SUITE, tmp, await mirror()]);
  });
}

/** The podman base image for the docker builder tests. */
export function podmanBaseImage(): Promise<string> {
  return once("podman-base", async () => {
    const exists = await spawnChild(["podman", "image", "exists", BASE_IMAGE]).done;
    if (exists.exitCode !== 0) await run(["podman", "import", "-q", await debianMinbaseTarball(), BASE_IMAGE]);
    return BASE_IMAGE;
  });
}

export const ANSIBLE_IMAGE = "localhost/imgb-test/debian-ansible:bookworm-v1";

/**
 * A podman image with python3, sudo and ansible-core: a machine the ansible provisioner can run
 * modules and `become` in, and where ansible-local finds ansible-playbook (~40 s to make, once).
 */
export function podmanAnsibleImage(): Promise<string> {
  return once("podman-ansible", async () => {
    const exists = await spawnChild(["podman", "image", "exists", ANSIBLE_IMAGE]).done;
    if (exists.exitCode === 0) return ANSIBLE_IMAGE;
    const tarball = await cachedFile(`debian-${SUITE}-ansible-v1.tar`, async (tmp) => {
      await run(["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root", "--include=python3,sudo,ansible-core", SUITE, tmp, await mirror()]);
    });
    await run(["podman", "import", "-q", tarball, ANSIBLE_IMAGE]);
    return ANSIBLE_IMAGE;
  });
}

export interface QemuGuest {
  /** qcow2 of a BIOS-bootable disk: MBR, FAT boot partition with syslinux, ext4 root (LABEL=root) on partition 2. */
  disk: string;
  kernel: string;
  initrd: string;
  /** Key that logs in as root. */
  privateKeyFile: string;
  user: string;
  /** The folder examples/qemu-debian's step 2 takes as guest_dir. */
  guestDir: string;
}

/** Units a test guest does not need on top of the example's; under TCG every one costs seconds of boot. */
const GUEST_MASKED = [
  "systemd-timesyncd.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "e2scrub_reap.service",
  "e2scrub_all.timer",
  "fstrim.timer",
  "man-db.timer",
  "dpkg-db-backup.timer",
  "logrotate.timer",
  "getty@tty1.service",
  "serial-getty@ttyS0.service",
];

export const QEMU_EXAMPLE = resolve(import.meta.dir, "../../examples/qemu-debian");

/**
 * The qemu-debian example's step 1, run through the compiled binary as a user runs it (~2.5 min,
 * once per cache): a Debian guest with a kernel, systemd and sshd on a BIOS-bootable disk, which
 * lets root in with a key made here.
 */
export function qemuGuest(): Promise<QemuGuest> {
  return (onceGuest ??= (async () => {
    // Named by what makes it: a change to the example's step 1 or to the masked units rebuilds it.
    const recipe = new Bun.CryptoHasher("sha256")
      .update(await Bun.file(join(QEMU_EXAMPLE, "guest", "guest.pkr.hcl")).text())
      .update(JSON.stringify(GUEST_MASKED))
      .digest("hex")
      .slice(0, 12);
    const dir = await cachedFile(`qemu-guest-${recipe}`, async (tmp) => {
      await mkdir(tmp, { recursive: true });
      await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imgb-test", "-f", join(tmp, "key")]);
      const r = await runImgb(
        ["build", "-color=false", "-var", `masked_units=${JSON.stringify(GUEST_MASKED)}`, join(QEMU_EXAMPLE, "guest")],
        { cwd: tmp, timeoutMs: 600_000 },
      );
      if (r.exitCode !== 0) throw new Error(`building the qemu test guest failed:\n${r.stdout}\n${r.stderr}`);
    });
    const out = join(dir, "output-guest");
    return {
      disk: join(out, "guest.qcow2"),
      kernel: join(out, "guest.vmlinuz"),
      initrd: join(out, "guest.initrd"),
      privateKeyFile: join(dir, "key"),
      user: "root",
      guestDir: out,
    };
  })());
}
let onceGuest: Promise<QemuGuest> | undefined;

/**
 * A debugfs request (`cat /etc/motd`, `stats`) on an ext4 file system inside a disk image (qcow2 or
 * raw): the bare file system, or partition `partition` of an MBR disk. Nothing is mounted.
 */
export async function debugfsOnDiskImage(image: string, request: string, partition = 2): Promise<string> {
  const raw = `${image}.read-${process.pid}.raw`;
  try {
    await run(["qemu-img", "convert", "-O", "raw", image, raw]);
    const offset = await partitionOffset(raw, partition);
    return await runText(["debugfs", "-R", request, offset ? `${raw}?offset=${offset}` : raw]);
  } finally {
    await rm(raw, { force: true });
  }
}

export function readFromDiskImage(image: string, path: string, partition = 2): Promise<string> {
  return debugfsOnDiskImage(image, `cat ${path}`, partition);
}

/** Size of the ext4 file system in the image, from its superblock. */
export async function fileSystemBytes(image: string, partition = 2): Promise<number> {
  const stats = await debugfsOnDiskImage(image, "stats", partition);
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(stats)?.[1]);
  return field("Block count") * field("Block size");
}

/** Byte offset of an MBR partition, or 0 when the image has no partition table (a bare file system). */
export async function partitionOffset(raw: string, partition: number): Promise<number> {
  const head = new Uint8Array(await Bun.file(raw).slice(0, 512).arrayBuffer());
  const view = new DataView(head.buffer);
  if (view.getUint16(510, true) !== 0xaa55) return 0;
  const entry = 446 + (partition - 1) * 16;
  if (head[entry + 4] === 0) return 0;
  return view.getUint32(entry + 8, true) * 512;
}
