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
