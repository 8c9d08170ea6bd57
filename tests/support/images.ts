// Base images the builder tests need, made locally (no registry is reachable) once and cached:
// a minbase Debian tarball (mmdebstrap), a podman image imported from it, and a bootable guest for
// the qemu tests. The cache lives in IMGB_TEST_CACHE or $TMPDIR/imgb-test-cache; each entry's name
// carries its recipe version, so a changed recipe rebuilds. Within one `bun test` process each
// image is made at most once.
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, spawnChild } from "../../core/process/child.ts";
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

export interface QemuGuest {
  /** qcow2 holding an ext4 root filesystem (no partition table: root=/dev/vda). */
  disk: string;
  kernel: string;
  initrd: string;
  /** Key that logs in as root. */
  privateKeyFile: string;
  user: string;
}

const GUEST_PACKAGES = ["linux-image-amd64", "systemd-sysv", "udev", "openssh-server", "iproute2"];

/** Units a test guest does not need; under TCG every one costs seconds of boot. */
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

/**
 * A Debian guest with a kernel, systemd and sshd, made by the rootfs builder itself (~2 min, once
 * per cache): the key is put into root's authorized_keys through the chroot communicator.
 */
export function qemuGuest(): Promise<QemuGuest> {
  return onceGuest ??= (async () => {
    const dir = await cachedFile("qemu-guest-v1", async (tmp) => {
      const { rootfsBuilderFactory } = await import("../../core/builders/rootfs/index.ts");
      const { runBuild } = await import("../builders/docker/harness.ts");
      await mkdir(tmp, { recursive: true });
      await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imgb-test", "-f", join(tmp, "id_ed25519")]);
      const publicKey = await Bun.file(join(tmp, "id_ed25519.pub")).text();
      const outcome = await runBuild(
        rootfsBuilderFactory,
        {
          packages: GUEST_PACKAGES,
          output_directory: join(tmp, "out"),
          image_name: "guest",
          formats: ["qcow2"],
          disk_size: "2G",
        },
        async (comm) => {
          const script = [
            "set -e",
            "mkdir -p -m 700 /root/.ssh",
            "cat > /root/.ssh/authorized_keys",
            "chmod 600 /root/.ssh/authorized_keys",
            "printf '[Match]\\nName=e*\\n\\n[Network]\\nDHCP=ipv4\\n' > /etc/systemd/network/20-wired.network",
            "systemctl enable systemd-networkd",
            `systemctl mask ${GUEST_MASKED.join(" ")}`,
            "echo imgb-guest > /etc/hostname",
            "echo '/dev/vda / ext4 defaults 0 1' > /etc/fstab",
          ].join("\n");
          const res = await comm.start({ command: script, stdin: new TextEncoder().encode(publicKey) }, new AbortController().signal);
          if (res.kind !== "exited" || res.exitStatus !== 0) throw new Error(`guest provisioning failed: ${JSON.stringify(res)}`);
        },
      );
      if (outcome.error) throw outcome.error;
    });
    return {
      disk: join(dir, "out", "guest.qcow2"),
      kernel: join(dir, "out", "guest.vmlinuz"),
      initrd: join(dir, "out", "guest.initrd"),
      privateKeyFile: join(dir, "id_ed25519"),
      user: "root",
    };
  })();
}
let onceGuest: Promise<QemuGuest> | undefined;
