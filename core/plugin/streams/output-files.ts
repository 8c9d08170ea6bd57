// Small-file primitives for post-processors that keep a shared file in the output folder
// (manifest, checksum): read with a content hash, compare-and-swap under a lock file, append.
// Parallel builds of one run post-process at the same time and append to the same manifest; the
// read-modify-write must not lose an entry. The plugin reads (content + sha256), computes the new
// content, and asks to swap it in only if the file still has the content it read; the host holds
// `<file>.lock` (O_EXCL, as Packer's manifest does) while it compares and writes (temp + rename).
// Another process holding the lock is waited for; a stale lock (its holder died) is broken.
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { openForRead, openForWrite } from "../host/paths.ts";
import { Cancelled } from "../../errors/cancelled.ts";

const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

export function sha256Hex(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

export interface SmallFile {
  exists: boolean;
  data: Uint8Array;
  sha256: string | null;
}

/** Reads a small file; `real` is the grant check's resolved path, opened as every checked file is (no FIFO, no swapped link). */
export async function readSmallFile(path: string, limit: number, real: string = path): Promise<SmallFile> {
  try {
    const fh = await openForRead({ path, real });
    let data: Uint8Array;
    try {
      const s = await fh.stat();
      if (s.size > limit) throw new Error(`${path} is ${s.size} bytes, over the limit of ${limit}`);
      data = new Uint8Array(await fh.readFile());
    } finally {
      await fh.close();
    }
    return { exists: true, data, sha256: sha256Hex(data) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { exists: false, data: new Uint8Array(0), sha256: null };
    throw e;
  }
}

async function acquireLock(lock: string, signal?: AbortSignal): Promise<() => Promise<void>> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, "wx", 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const age = await stat(lock).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) {
      await rm(lock, { force: true });
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) throw new Error(`timed out waiting for the lock ${lock}`);
    if (signal?.aborted) throw new Cancelled("cancelled");
    await Bun.sleep(Math.min(100, 5 * (attempt + 1)));
  }
}

/**
 * Replaces the file's content with `data` if its current content hashes to `expectSha256`
 * (null = the file must not exist). Returns whether it swapped and the hash now on disk.
 */
export async function swapSmallFile(
  path: string,
  expectSha256: string | null,
  data: Uint8Array,
  mode: number,
  signal?: AbortSignal,
  /** The grant check's resolved path of `path`. */
  real: string = path,
): Promise<{ swapped: boolean; sha256: string | null }> {
  await mkdir(dirname(path), { recursive: true });
  const release = await acquireLock(`${path}.lock`, signal);
  try {
    const current = await readSmallFile(path, Number.MAX_SAFE_INTEGER, real);
    if (current.sha256 !== expectSha256) return { swapped: false, sha256: current.sha256 };
    const temp = `${path}.imgb-swap-${process.pid}`;
    await rm(temp, { force: true });
    // Created anew (O_EXCL, no link followed): nothing planted under this name since the rm carries the write elsewhere.
    const { fh } = await openForWrite(temp, { mode });
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await rename(temp, path);
    return { swapped: true, sha256: sha256Hex(data) };
  } finally {
    await release();
  }
}

/** Appends to a file (creating it and its folder); says whether it was created (Packer adds new checksum files to the artifact). */
export async function appendFile(path: string, data: Uint8Array, mode: number): Promise<{ created: boolean }> {
  await mkdir(dirname(path), { recursive: true });
  // No symlink or hard link in the output folder carries the write elsewhere (host/paths.ts).
  const { fh, created } = await openForWrite(path, { append: true, mode });
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
  return { created };
}
