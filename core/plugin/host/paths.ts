// Path grants for host functions: the one check every path a plugin names goes through, in both
// directions (host functions it calls, files its answer names). A path is allowed when it resolves
// (symlinks followed) inside one of the granted roots. Relative paths are resolved against the working
// directory, as Packer does. What is refused whatever the roots: NUL bytes, paths longer than
// PATH_MAX, dangling and looping symlinks (a write through one would land wherever it points).
// Writes open their file with O_NOFOLLOW and refuse a file with other hard links, so a link planted
// inside a granted folder cannot carry a write outside it. Every open of a checked file (openForRead,
// openForWrite, the sandbox's byte handles) takes regular files only, never blocks (O_NONBLOCK: a FIFO
// hung the call and a host thread for ever), and confirms it opened the file it checked (sameFileOpened).
import { constants, type Stats } from "node:fs";
import { existsSync, readlinkSync } from "node:fs";
import { lstat, open, realpath, type FileHandle } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, resolve, sep } from "node:path";
import type { HostCallContext } from "./context.ts";
import { refuseCap } from "./refusal.ts";

export interface Root {
  /** Absolute folder, or an exact file when `exact`. */
  path: string;
  exact?: boolean;
  /** Words for the refusal message: "the template directory". */
  label: string;
}

/** Linux PATH_MAX: a longer path can name nothing. */
export const MAX_PATH_BYTES = 4096;

export function absolute(path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(process.cwd(), path);
}

class PathProblem extends Error {}

/**
 * Resolves symlinks of the path, or of its nearest existing parent when it does not exist yet.
 * A component that exists but cannot be resolved (dangling or looping symlink) is a PathProblem.
 */
async function real(path: string): Promise<string> {
  let p = path;
  const rest: string[] = [];
  for (;;) {
    try {
      const r = await realpath(p);
      return rest.length ? resolve(r, ...rest.reverse()) : r;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw new PathProblem(`${JSON.stringify(p)} is a symbolic link loop`);
      const st = await lstat(p).catch(() => null);
      if (st?.isSymbolicLink()) throw new PathProblem(`${JSON.stringify(p)} is a dangling symbolic link`);
      if (st && code !== "ENOENT") throw new PathProblem(`${JSON.stringify(p)}: ${code ?? (e as Error).message}`);
      const parent = dirname(p);
      if (parent === p) return path;
      rest.push(p.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      p = parent;
    }
  }
}

function inside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

export type PathCheck = { ok: true; path: string; real: string } | { ok: false; reason: string };

/** Returns the absolute path when allowed, or the reason it is not (naming the roots). */
export async function checkPath(path: string, roots: Root[]): Promise<PathCheck> {
  if (path.includes("\0")) return { ok: false, reason: "the path contains a NUL byte" };
  if (path === "") return { ok: false, reason: "the path is empty" };
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return { ok: false, reason: `the path is longer than ${MAX_PATH_BYTES} bytes` };
  const abs = absolute(path);
  const rootsReal = await Promise.all(roots.map((root) => real(absolute(root.path)).catch(() => null)));
  const outside = (): PathCheck => {
    if (roots.length === 0) return { ok: false, reason: "no local paths are granted here" };
    const labels = [...new Set(roots.map((r) => r.label))];
    return { ok: false, reason: `outside ${labels.join(" and ")}` };
  };
  let resolved: string;
  try {
    resolved = await real(abs);
  } catch (e) {
    if (!(e instanceof PathProblem)) throw e;
    // What is wrong with a path (a dangling link, a loop, no permission) is said only of a path named
    // inside a grant: outside them, the answer would tell which links and files exist there.
    const named = roots.some((root, i) => {
      const r = rootsReal[i];
      return root.exact ? abs === absolute(root.path) || abs === r : inside(abs, absolute(root.path)) || (r !== null && r !== undefined && inside(abs, r));
    });
    return named ? { ok: false, reason: e.message } : outside();
  }
  for (const [i, root] of roots.entries()) {
    const rootReal = rootsReal[i];
    if (rootReal === null || rootReal === undefined) continue;
    if (root.exact ? resolved === rootReal : inside(resolved, rootReal)) return { ok: true, path: abs, real: resolved };
  }
  return outside();
}

/** Grants, with the words explaining roots that were left out (a working directory too broad to grant). */
export interface Grant {
  roots: Root[];
  note?: string;
}

/** The one grant check every path a plugin names goes through: the checked path, or a refusal of `cap`. */
export async function allowed(cap: string, path: string, grant: Grant | Root[]): Promise<string> {
  return (await allowedFile(cap, path, grant)).path;
}

/** A path that passed the grant check: as named (absolute) and as resolved then (no links in it). */
export interface CheckedFile {
  path: string;
  real: string;
}

/** The grant check for a file the host opens next: open `real` with openForRead / openForWrite. */
export async function allowedFile(cap: string, path: string, grant: Grant | Root[]): Promise<CheckedFile> {
  const g = Array.isArray(grant) ? { roots: grant } : grant;
  const r = await checkPath(path, g.roots);
  if (!r.ok) refuseCap(cap, path, r.reason + (r.reason.startsWith("outside") ? (g.note ?? "") : ""));
  return { path: r.path, real: r.real };
}

/**
 * The check and the open are two steps: between them a component of the checked path can be swapped
 * for a link (a plugin read a file outside its grants 757 times in 3,000 tries that way). A path the
 * check resolved has no links, so the file opened is the one checked exactly when the kernel's name
 * of the open descriptor is that path; otherwise the open is refused. Without /proc nothing is checked.
 */
export function sameFileOpened(fd: number, real: string): void {
  let opened: string;
  try {
    opened = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return;
  }
  // Replaced or removed since the open (a parallel writer's rename): it was the checked file when opened.
  if (opened === `${real} (deleted)`) return;
  if (opened !== real) throw new UnsafeTarget(`${JSON.stringify(real)} changed between the grant check and the open (a link was swapped in)`);
}

/**
 * A path naming the open descriptor `fd` (Linux: /proc/self/fd/N, which opens that very file), for
 * code that takes a path; `real` where there is no /proc.
 */
export function descriptorPath(fd: number, real: string): string {
  return existsSync("/proc/self/fd") ? `/proc/self/fd/${fd}` : real;
}

/** Flags every open of a plugin-named file uses: no link in the last component, never blocking on a FIFO or device. */
export const OPEN_SAFE = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Refuses what is not a regular file (a FIFO, a socket, a device: reading one can block or never end).
 * A folder stays the plain failure it always was (EISDIR: plugins tell folders from files by it).
 */
export function regularFileOnly(path: string, st: Stats): void {
  if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${path}'`), { code: "EISDIR" });
  if (!st.isFile()) throw new UnsafeTarget(`${JSON.stringify(path)} is not a regular file`);
}

/** Opens a checked file for reading: the very file checked, a regular file, no link followed. */
export async function openForRead(file: CheckedFile): Promise<FileHandle> {
  const fh = await open(file.real, constants.O_RDONLY | OPEN_SAFE).catch((e: unknown) => {
    throw noFollowError(file.path, e);
  });
  try {
    regularFileOnly(file.path, await fh.stat());
    sameFileOpened(fh.fd, file.real);
  } catch (e) {
    await fh.close();
    throw e;
  }
  return fh;
}

/** A post-processor's input artifact files, each granted exactly. */
export function artifactRoots(ctx: Pick<HostCallContext, "artifactFiles">): Root[] {
  return (ctx.artifactFiles ?? []).map((f) => ({ path: f, exact: true, label: "the input artifact's files" }));
}

/** The folder a post-processor writes its outputs to. */
export function outputRoots(ctx: Pick<HostCallContext, "outputDir">): Root[] {
  return ctx.outputDir ? [{ path: ctx.outputDir, label: "the output directory" }] : [];
}

/** Folders the user granted with -allow-path (recorded with the build), readable like the working directory. */
export function extraRoots(ctx: Pick<HostCallContext, "allowedPaths">): Root[] {
  return (ctx.allowedPaths ?? []).map((p) => ({ path: p, label: `the allowed path ${p}` }));
}

/** Remembers that this call wrote `path` (and whether it created it): only such files may be named as new outputs or removed later. */
export function recordWrite(ctx: Pick<HostCallContext, "written">, path: string, created: boolean): void {
  if (!ctx.written) return;
  const key = absolute(path);
  ctx.written.set(key, (ctx.written.get(key) ?? false) || created);
}

export class UnsafeTarget extends Error {}

/**
 * Opens a granted path for writing without following a symlink in its last component (the check
 * resolved the others), refusing anything but a regular file with a single link. Truncates unless
 * appending. `created` says whether the file is new.
 */
export async function openForWrite(
  path: string,
  opts: { append?: boolean; mode?: number; real?: string } = {},
): Promise<{ fh: FileHandle; created: boolean }> {
  const base = constants.O_WRONLY | OPEN_SAFE | (opts.append ? constants.O_APPEND : 0);
  let fh: FileHandle;
  let created = true;
  try {
    fh = await open(path, base | constants.O_CREAT | constants.O_EXCL, opts.mode ?? 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EEXIST") throw noFollowError(path, e);
    created = false;
    fh = await open(path, base).catch((err: unknown) => {
      throw noFollowError(path, err);
    });
  }
  try {
    const st = await fh.stat();
    refuseUnsafe(path, st, created);
    if (opts.real !== undefined) sameFileOpened(fh.fd, opts.real);
    if (!opts.append && !created) await fh.truncate(0);
  } catch (e) {
    await fh.close();
    throw e;
  }
  return { fh, created };
}

function noFollowError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return new UnsafeTarget(`${JSON.stringify(path)} is a symbolic link; imgb does not write through links`);
  // A FIFO opened for writing without a reader, never waited for.
  if (code === "ENXIO") return new UnsafeTarget(`${JSON.stringify(path)} is not a regular file`);
  return e as Error;
}

function refuseUnsafe(path: string, st: Stats, created: boolean): void {
  regularFileOnly(path, st);
  if (!created && st.nlink > 1) throw new UnsafeTarget(`${JSON.stringify(path)} has other hard links; imgb does not write through links`);
}

/**
 * A folder too broad to grant implicitly (docs/plugin-abi.md §3): the file system root, a top-level
 * folder (/etc, /home, /tmp, ...), the user's home folder or a folder above it. Run from one of these,
 * the working directory (or template directory) grants nothing; -allow-path grants explicitly.
 */
export function tooBroad(folder: string): boolean {
  const abs = absolute(folder);
  if (abs === sep) return true;
  if (dirname(abs) === sep) return true;
  const home = homeFolder();
  return home !== null && inside(home, abs);
}

function homeFolder(): string | null {
  const h = process.env.HOME || homedir();
  return h ? absolute(h) : null;
}

/** The template directory and working directory as roots, each unless too broad; says which were left out. */
export function projectRoots(ctx: Pick<HostCallContext, "templateDir">, withTemplate: boolean): { roots: Root[]; note: string } {
  const roots: Root[] = [];
  const left: string[] = [];
  const add = (path: string, label: string) => {
    if (tooBroad(path)) left.push(`${label} ${path}`);
    else roots.push({ path, label });
  };
  if (withTemplate && ctx.templateDir) add(ctx.templateDir, "the template directory");
  add(process.cwd(), "the working directory");
  const note = left.length
    ? ` (${left.join(" and ")} ${left.length > 1 ? "are" : "is"} too broad to grant: the file system root, a top-level folder or the home folder; grant a folder with -allow-path)`
    : "";
  return { roots, note };
}
