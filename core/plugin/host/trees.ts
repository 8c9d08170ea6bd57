// Folder transfers between the host and a plugin's grants, checked entry by entry whatever the
// communicator (ssh, container, chroot, local) does underneath:
// - downloads land in a private staging folder beside the destination and are then moved in by
//   rename(2), which replaces a name without following it: a symlink or hard link already in the
//   destination is replaced, never written through; a symlink where a folder is needed is refused;
//   device nodes, FIFOs and sockets are refused and set-ID bits cleared (admit).
// - uploads are walked first: every symlink in the source tree must resolve inside the same grants
//   as the folder itself (dangling links and loops are refused).
import type { Stats } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { UnsafeTarget, type PathCheck } from "./paths.ts";

/** A 0700 folder next to `near` (same file system, so entries move in by rename). */
export async function stagingFolder(near: string): Promise<{ path: string; remove: () => Promise<void> }> {
  await mkdir(near, { recursive: true });
  const path = await mkdtemp(join(near, ".imgb-staging-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

type Record = (path: string, created: boolean) => void;

/** Moves a staged file or the contents of a staged folder to `dest` without following anything there. */
export async function commitStaged(staged: string, dest: string, record: Record): Promise<void> {
  const st = await lstat(staged);
  await admit(staged, st);
  if (st.isDirectory()) {
    await mkdir(dest, { recursive: true });
    const d = await lstat(dest);
    if (!d.isDirectory()) throw new UnsafeTarget(`${JSON.stringify(dest)} is not a folder`);
    await mergeInto(staged, dest, record);
    return;
  }
  await moveEntry(staged, dest, record);
}

/**
 * What a download may bring into a granted folder: files, folders and links, never a device node, a
 * FIFO or a socket (a tar unpacked as root makes whatever the machine's archive holds: a world-readable
 * node of the host's disk), and no set-user-ID, set-group-ID or sticky bit (a set-user-ID binary
 * planted in the working folder runs as its owner for anyone who starts it).
 */
async function admit(path: string, st: Stats): Promise<void> {
  if (!st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) {
    const what = st.isFIFO() ? "a FIFO" : st.isSocket() ? "a socket" : "a device node";
    throw new UnsafeTarget(`${JSON.stringify(path)} is ${what}; imgb downloads only files, folders and links`);
  }
  if (!st.isSymbolicLink() && st.mode & 0o7000) await chmod(path, st.mode & 0o777);
}

async function moveEntry(from: string, to: string, record: Record): Promise<void> {
  await admit(from, await lstat(from));
  const existing = await lstat(to).catch(() => null);
  if (existing?.isDirectory()) throw new UnsafeTarget(`${JSON.stringify(to)} is a folder`);
  await rename(from, to);
  record(to, existing === null);
}

async function mergeInto(stagedDir: string, destDir: string, record: Record): Promise<void> {
  for (const entry of await readdir(stagedDir, { withFileTypes: true })) {
    const from = join(stagedDir, entry.name);
    const to = join(destDir, entry.name);
    if (!entry.isDirectory()) {
      await moveEntry(from, to, record);
      continue;
    }
    await admit(from, await lstat(from));
    const existing = await lstat(to).catch(() => null);
    if (existing === null) {
      for (const f of await filesUnder(from)) record(join(to, f.slice(from.length + 1)), true);
      await rename(from, to);
    } else if (existing.isDirectory()) {
      await mergeInto(from, to, record);
    } else {
      throw new UnsafeTarget(`${JSON.stringify(to)} exists and is not a folder${existing.isSymbolicLink() ? " (a symbolic link)" : ""}; imgb does not write through links`);
    }
  }
}

/** The files under a staged folder about to move in whole, each admitted first. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    await admit(p, await lstat(p));
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/**
 * Walks an upload source (following links, as the transfer will) and returns the first symlink whose
 * target the grant check refuses, or null when every entry is inside the grants.
 */
export async function checkUploadTree(root: string, check: (path: string) => Promise<PathCheck>): Promise<{ path: string; reason: string } | null> {
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<{ path: string; reason: string } | null> => {
    const real = await check(dir);
    if (!real.ok) return { path: dir, reason: real.reason };
    if (seen.has(real.real)) return { path: dir, reason: `${JSON.stringify(dir)} loops back to ${JSON.stringify(real.real)}` };
    seen.add(real.real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return null; // not a folder: the transfer reports it
    }
    for (const entry of entries) {
      const p = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        const r = await check(p);
        if (!r.ok) return { path: p, reason: r.reason };
        const st = await lstat(r.real).catch(() => null);
        if (st?.isDirectory()) {
          const bad = await visit(p);
          if (bad) return bad;
        }
      } else if (entry.isDirectory()) {
        const bad = await visit(p);
        if (bad) return bad;
      }
    }
    seen.delete(real.real);
    return null;
  };
  return visit(root);
}
