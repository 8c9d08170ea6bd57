// Handlers of the streaming host functions for post-processors (additive to ABI imgb-plugin/1;
// docs/plugin-abi.md §12, §14). Heavy byte work (hashing, archiving, compressing) runs here on the
// host, driven by the plugin with one call, instead of 4 MiB base64 chunks crossing the sandbox
// boundary. Every path is checked against the call's grants *before* a byte moves:
//   reads  (hash_files, compress_files inputs, files_stat, output_file_read, artifact_open): the
//          input artifact's files or the output folder — capability artifact_read;
//   writes (compress_files output, output_file_swap, output_file_append, artifact_create): the
//          output folder — capability artifact_write.
// Requests arrive checked by the one gate (../host/gate.ts) against the table (../host/table.ts).
import { isAbsolute, join, sep } from "node:path";
import type { HostCallContext } from "../host/context.ts";
import type { Handlers, ReplyOf } from "../host/table.ts";
import { Refusal } from "../host/refusal.ts";
import { absolute, allowed, allowedFile, artifactRoots, checkPath, openForRead, openForWrite, outputRoots, recordWrite } from "../host/paths.ts";
import { CompressError, compressFiles } from "./compress.ts";
import { hashFile } from "./hash.ts";
import { appendFile, readSmallFile, swapSmallFile } from "./output-files.ts";
import { lstat, realpath, stat } from "node:fs/promises";

const handles = new WeakMap<HostCallContext, number>();

/** Byte handles are numbered per call from 1. */
function nextHandle(ctx: HostCallContext): number {
  const n = (handles.get(ctx) ?? 0) + 1;
  handles.set(ctx, n);
  return n;
}

const readable = (ctx: HostCallContext, p: string) => allowed("artifact_read", p, [...artifactRoots(ctx), ...outputRoots(ctx)]);
/** A readable path resolved as the check saw it (no links): what the host opens (openForRead confirms it). */
const readableReal = async (ctx: HostCallContext, p: string) => (await allowedFile("artifact_read", p, [...artifactRoots(ctx), ...outputRoots(ctx)])).real;
const writable = (ctx: HostCallContext, p: string) => allowed("artifact_write", p, outputRoots(ctx));

/** Below this much data the work takes well under a second: no progress line (keeps output like Packer's). */
const PROGRESS_MIN_BYTES = 64 * 2 ** 20;

/** A UI progress bar for long work, when the plugin asked for one. */
function progressFor(ctx: HostCallContext, label: string | undefined, total: number): (done: number) => void {
  if (!label || !ctx.ui || total < PROGRESS_MIN_BYTES) return () => {};
  const tracker = ctx.ui.progress(label, total);
  const id = -(ctx.progress.size + 1);
  ctx.progress.set(id, tracker); // finished by the runtime if the call ends early
  return (done: number) => {
    tracker.update(done);
    if (done >= total) {
      tracker.finish();
      ctx.progress.delete(id);
    }
  };
}

function hasGlobMeta(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/** Go's filepath.Glob: matches in lexical order; a pattern without metacharacters matches itself if it exists. */
async function expandGlob(pattern: string): Promise<string[]> {
  if (!hasGlobMeta(pattern)) {
    return (await stat(pattern).then(() => true, () => false)) ? [pattern] : [];
  }
  const parts = pattern.split("/");
  const firstMeta = parts.findIndex(hasGlobMeta);
  const base = parts.slice(0, firstMeta).join("/") || (isAbsolute(pattern) ? "/" : ".");
  const rest = parts.slice(firstMeta).join("/");
  const out: string[] = [];
  for await (const m of new Bun.Glob(rest).scan({ cwd: base, onlyFiles: false, dot: true })) {
    out.push(base === "." && !pattern.startsWith("./") ? m : join(base, m));
  }
  return out.sort();
}

/** The glob's fixed leading folder (absolute). */
function globBase(pattern: string): string {
  const parts = pattern.split("/");
  return absolute(parts.slice(0, parts.findIndex(hasGlobMeta)).join("/") || (isAbsolute(pattern) ? "/" : "."));
}

/** True when the glob's fixed leading folder lies strictly above every grant (it lists a folder outside them). */
function globBaseAbove(ctx: HostCallContext, pattern: string): boolean {
  const base = globBase(pattern);
  const roots = [...artifactRoots(ctx), ...outputRoots(ctx)].map((r) => absolute(r.path));
  const within = (a: string, b: string) => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
  return !roots.some((r) => within(base, r));
}

/**
 * Refuses a glob whose fixed leading folder can hold no granted path (e.g. "/etc/*"), before the
 * folder is listed at all.
 */
async function globBaseAllowed(ctx: HostCallContext, pattern: string): Promise<void> {
  const parts = pattern.split("/");
  const base = absolute(parts.slice(0, parts.findIndex(hasGlobMeta)).join("/") || (isAbsolute(pattern) ? "/" : "."));
  const roots = [...artifactRoots(ctx), ...outputRoots(ctx)].map((r) => absolute(r.path));
  const within = (a: string, b: string) => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
  if (!roots.some((r) => within(r, base) || within(base, r))) {
    throw new Refusal(`capability artifact_read refused for ${JSON.stringify(pattern)}: outside the input artifact's files and the output directory`);
  }
}

export const STREAM_HANDLERS = {
  async hash_files(ctx, req) {
    const paths: string[] = [];
    for (const p of req.paths) paths.push(await readableReal(ctx, p));
    const sizes = await Promise.all(paths.map((p) => stat(p).then((s) => s.size)));
    const total = sizes.reduce((a, b) => a + b, 0);
    const progress = progressFor(ctx, req.progress, total);
    let done = 0;
    const files: ReplyOf<"hash_files">["files"] = [];
    for (const [i, p] of paths.entries()) {
      const r = await hashFile(p, req.types, (n) => progress((done += n)), ctx.signal);
      files.push({ path: req.paths[i]!, size: r.size, digests: r.digests });
    }
    return { files };
  },

  async compress_files(ctx, req) {
    const inputs: string[] = [];
    // The plugin's own temp files (metadata it wrote) may go into the archive beside the artifact's.
    for (const p of req.inputs) inputs.push(ctx.temp?.has(p) ? await realpath(p) : await readableReal(ctx, p));
    if (req.names && req.names.length !== req.inputs.length) throw new CompressError("names must name every input");
    const output = await writable(ctx, req.output);
    const existed = await lstat(output).then(() => true, () => false);
    let progress: ((done: number) => void) | null = null;
    const r = await compressFiles({
      inputs,
      entryNames: req.inputs,
      ...(req.names ? { tarNames: req.names } : {}),
      output,
      archive: req.archive,
      compression: req.compression,
      level: req.level,
      signal: ctx.signal,
      onProgress: (done, total) => {
        progress ??= progressFor(ctx, req.progress, total);
        progress(done);
      },
    });
    recordWrite(ctx, output, !existed);
    return { output: req.output, input_bytes: r.inputBytes, output_bytes: r.outputBytes };
  },

  async files_stat(ctx, req) {
    const files: ReplyOf<"files_stat">["files"] = [];
    for (const pattern of req.paths) {
      const globbing = req.glob && hasGlobMeta(pattern);
      if (globbing) await globBaseAllowed(ctx, pattern);
      const matches = req.glob ? await expandGlob(pattern) : [pattern];
      // A pattern whose fixed folder is above the grants (`/home/u/.ssh*` from /home/u/proj/out) lists
      // a folder outside them: its matches outside the grants are left out as if absent, so the answer
      // never tells which names exist there (a refusal did, one probe at a time).
      const above = globbing && globBaseAbove(ctx, pattern);
      for (const m of matches) {
        if (above && !(await checkPath(m, [...artifactRoots(ctx), ...outputRoots(ctx)])).ok) continue;
        // A refused match names the pattern, not the file found: no listing of folders outside the grants.
        const abs = await readable(ctx, m).catch((e: unknown) => {
          if (e instanceof Refusal && m !== pattern) throw new Refusal(`capability artifact_read refused for ${JSON.stringify(pattern)}: it matches files outside the input artifact's files and the output directory`);
          throw e;
        });
        const s = await stat(abs).catch(() => null);
        files.push({ path: m, exists: s !== null, size: s?.size ?? 0, is_file: s?.isFile() ?? false });
      }
    }
    return { files };
  },

  async output_file_read(ctx, req) {
    const file = await allowedFile("artifact_read", req.path, [...artifactRoots(ctx), ...outputRoots(ctx)]);
    const f = await readSmallFile(file.path, Math.floor((ctx.limits.messageBytes * 3) / 4) - 1024, file.real);
    // now_unix: plugins have no clock (no WASI); the manifest stamps build_time with it.
    return { exists: f.exists, data_base64: Buffer.from(f.data).toString("base64"), sha256: f.sha256, now_unix: Math.floor(Date.now() / 1000) };
  },

  async output_file_swap(ctx, req) {
    const { path, real } = await allowedFile("artifact_write", req.path, outputRoots(ctx));
    const existed = await lstat(path).then(() => true, () => false);
    const r = await swapSmallFile(path, req.expect_sha256, new Uint8Array(Buffer.from(req.data_base64, "base64")), req.mode, ctx.signal, real);
    if (r.swapped) recordWrite(ctx, path, !existed);
    return { swapped: r.swapped, sha256: r.sha256 };
  },

  // Byte handles (docs/plugin-abi.md §14): the grant is checked here; the sandbox child opens the
  // resolved path named in the reply and moves the bytes itself with artifact_pread/artifact_pwrite,
  // straight between the file and the plugin's linear memory.
  async artifact_open(ctx, req) {
    const file = await allowedFile("artifact_read", req.path, [...artifactRoots(ctx), ...outputRoots(ctx)]);
    // Opened here too: a FIFO, a device or a swapped-in link is refused before the child opens it.
    const fh = await openForRead(file);
    try {
      return { handle: nextHandle(ctx), size: (await fh.stat()).size, path: file.real };
    } finally {
      await fh.close();
    }
  },

  async artifact_create(ctx, req) {
    const file = await allowedFile("artifact_write", req.path, outputRoots(ctx));
    // The same open as every write: no link followed, no hard-linked file, regular files only.
    const { fh, created } = await openForWrite(file.path, { append: req.append, mode: req.mode, real: file.real });
    recordWrite(ctx, file.path, created);
    try {
      await fh.chmod(req.mode);
      return { handle: nextHandle(ctx), size: (await fh.stat()).size, path: file.real };
    } finally {
      await fh.close();
    }
  },

  async output_file_append(ctx, req) {
    const path = await writable(ctx, req.path);
    const r = await appendFile(path, new Uint8Array(Buffer.from(req.data_base64, "base64")), req.mode);
    recordWrite(ctx, path, r.created);
    return { created: r.created };
  },
} satisfies Partial<Handlers>;

export type StreamFunctionName = keyof typeof STREAM_HANDLERS;
