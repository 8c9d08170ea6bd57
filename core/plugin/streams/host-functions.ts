// Streaming host functions for post-processors (additive to ABI imgb-plugin/1; docs/plugin-abi.md
// §12). Heavy byte work (hashing, archiving, compressing) runs here on the host, driven by the
// plugin with one call, instead of 4 MiB base64 chunks crossing the sandbox boundary. Every path
// is checked against the call's grants *before* a byte moves:
//   reads  (hash_files, compress_files inputs, files_stat, output_file_read): the input artifact's
//          files or the output folder — capability artifact_read;
//   writes (compress_files output, output_file_swap, output_file_append): the output folder —
//          capability artifact_write.
// core/plugin/host/functions.ts routes these names here; refusals become sticky call failures there.
import * as v from "valibot";
import { isAbsolute, join, sep } from "node:path";
import type { JsonValue } from "../../values/json.ts";
import type { HostCallContext } from "../host/context.ts";
import { absolute, artifactRoots, checkPath, outputRoots, recordWrite, UnsafeTarget, type Root } from "../host/paths.ts";
import { ARCHIVES, COMPRESSIONS, CompressError, compressFiles } from "./compress.ts";
import { HASH_TYPES, hashFile } from "./hash.ts";
import { appendFile, readSmallFile, swapSmallFile } from "./output-files.ts";
import { lstat, open, stat } from "node:fs/promises";

export const STREAM_FUNCTIONS: ReadonlySet<string> = new Set([
  "hash_files",
  "compress_files",
  "files_stat",
  "output_file_read",
  "output_file_swap",
  "output_file_append",
  "artifact_open",
  "artifact_create",
]);

/** Capabilities each stream function needs (all of them). */
export const STREAM_CAPABILITIES: Record<string, readonly string[]> = {
  hash_files: ["artifact_read"],
  compress_files: ["artifact_read", "artifact_write"],
  files_stat: ["artifact_read"],
  output_file_read: ["artifact_read"],
  output_file_swap: ["artifact_write"],
  output_file_append: ["artifact_write"],
  artifact_open: ["artifact_read"],
  artifact_create: ["artifact_write"],
};

export type StreamCallOutcome =
  | { kind: "reply"; value: Record<string, JsonValue> }
  | { kind: "refusal"; message: string }
  | { kind: "failure"; message: string };

class Refused extends Error {}

const Base64 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, "is not base64"));
const Paths = v.pipe(v.array(v.string()), v.minLength(1, "needs at least one path"), v.maxLength(10_000));
const Mode = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o7777)), 0o644);

const Schemas = {
  hash_files: v.object({
    paths: Paths,
    types: v.pipe(v.array(v.picklist(HASH_TYPES)), v.minLength(1, "needs at least one checksum type")),
    progress: v.optional(v.string()),
  }),
  compress_files: v.object({
    inputs: Paths,
    output: v.string(),
    archive: v.picklist(ARCHIVES),
    compression: v.picklist(COMPRESSIONS),
    level: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(9)), 6),
    progress: v.optional(v.string()),
    /** tar entry names, one per input (a .box holds the disk as box.img); default: the basenames. */
    names: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+$/, "is not a plain file name"), v.check((n) => n !== "." && n !== "..", "is not a plain file name")))),
  }),
  files_stat: v.object({ paths: Paths, glob: v.optional(v.boolean(), false) }),
  output_file_read: v.object({ path: v.string() }),
  output_file_swap: v.object({
    path: v.string(),
    expect_sha256: v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "is not a sha256 hex digest"))),
    data_base64: Base64,
    mode: Mode,
  }),
  output_file_append: v.object({ path: v.string(), data_base64: Base64, mode: Mode }),
  artifact_open: v.object({ path: v.string() }),
  artifact_create: v.object({ path: v.string(), append: v.optional(v.boolean(), false), mode: Mode }),
} as const;

type Fn = keyof typeof Schemas;
type Req<F extends Fn> = v.InferOutput<(typeof Schemas)[F]>;

const handles = new WeakMap<HostCallContext, number>();

/** Byte handles are numbered per call from 1. */
function nextHandle(ctx: HostCallContext): number {
  const n = (handles.get(ctx) ?? 0) + 1;
  handles.set(ctx, n);
  return n;
}

async function allowed(cap: string, path: string, roots: Root[]): Promise<string> {
  const r = await checkPath(path, roots);
  if (!r.ok) throw new Refused(`capability ${cap} refused for ${JSON.stringify(path)}: ${r.reason}`);
  return r.path;
}

const readable = (ctx: HostCallContext, p: string) => allowed("artifact_read", p, [...artifactRoots(ctx), ...outputRoots(ctx)]);
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
    throw new Refused(`capability artifact_read refused for ${JSON.stringify(pattern)}: outside the input artifact's files and the output directory`);
  }
}

type Handlers = { [F in Fn]: (ctx: HostCallContext, req: Req<F>) => Promise<Record<string, JsonValue>> };

const HANDLERS: Handlers = {
  async hash_files(ctx, req) {
    const paths: string[] = [];
    for (const p of req.paths) paths.push(await readable(ctx, p));
    const sizes = await Promise.all(paths.map((p) => stat(p).then((s) => s.size)));
    const total = sizes.reduce((a, b) => a + b, 0);
    const progress = progressFor(ctx, req.progress, total);
    let done = 0;
    const files: JsonValue[] = [];
    for (const [i, p] of paths.entries()) {
      const r = await hashFile(p, req.types, (n) => progress((done += n)), ctx.signal);
      files.push({ path: req.paths[i]!, size: r.size, digests: r.digests });
    }
    return { files };
  },

  async compress_files(ctx, req) {
    const inputs: string[] = [];
    // The plugin's own temp files (metadata it wrote) may go into the archive beside the artifact's.
    for (const p of req.inputs) inputs.push(ctx.temp?.has(p) ? p : await readable(ctx, p));
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
    const files: JsonValue[] = [];
    for (const pattern of req.paths) {
      if (req.glob && hasGlobMeta(pattern)) await globBaseAllowed(ctx, pattern);
      const matches = req.glob ? await expandGlob(pattern) : [pattern];
      for (const m of matches) {
        // A refused match names the pattern, not the file found: no listing of folders outside the grants.
        const abs = await readable(ctx, m).catch((e: unknown) => {
          if (e instanceof Refused && m !== pattern) throw new Refused(`capability artifact_read refused for ${JSON.stringify(pattern)}: it matches files outside the input artifact's files and the output directory`);
          throw e;
        });
        const s = await stat(abs).catch(() => null);
        files.push({ path: m, exists: s !== null, size: s?.size ?? 0, is_file: s?.isFile() ?? false });
      }
    }
    return { files };
  },

  async output_file_read(ctx, req) {
    const path = await readable(ctx, req.path);
    const f = await readSmallFile(path, Math.floor((ctx.limits.messageBytes * 3) / 4) - 1024);
    // now_unix: plugins have no clock (no WASI); the manifest stamps build_time with it.
    return { exists: f.exists, data_base64: Buffer.from(f.data).toString("base64"), sha256: f.sha256, now_unix: Math.floor(Date.now() / 1000) };
  },

  async output_file_swap(ctx, req) {
    const path = await writable(ctx, req.path);
    const existed = await lstat(path).then(() => true, () => false);
    const r = await swapSmallFile(path, req.expect_sha256, new Uint8Array(Buffer.from(req.data_base64, "base64")), req.mode, ctx.signal);
    if (r.swapped) recordWrite(ctx, path, !existed);
    return { swapped: r.swapped, sha256: r.sha256 };
  },

  // Byte handles (docs/plugin-abi.md §14): the grant is checked here; the sandbox child opens the
  // resolved path named in the reply and moves the bytes itself with artifact_pread/artifact_pwrite,
  // straight between the file and the plugin's linear memory.
  async artifact_open(ctx, req) {
    const path = await readable(ctx, req.path);
    const size = (await stat(path)).size;
    return { handle: nextHandle(ctx), size, path };
  },

  async artifact_create(ctx, req) {
    const path = await writable(ctx, req.path);
    const fh = await open(path, req.append ? "a" : "w", req.mode);
    try {
      await fh.chmod(req.mode);
      return { handle: nextHandle(ctx), size: (await fh.stat()).size, path };
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
};

/** Serves one stream host call; never throws. */
export async function serveStreamCall(ctx: HostCallContext, fn: string, payload: string): Promise<StreamCallOutcome> {
  if (!STREAM_FUNCTIONS.has(fn)) return { kind: "refusal", message: `unknown host function ${fn}` };
  const name = fn as Fn;
  const caps = STREAM_CAPABILITIES[name] ?? [];
  if (ctx.phase !== "run") {
    const word = ctx.phase === "describe" ? "describe" : "prepare";
    return { kind: "refusal", message: `capability ${caps[0]} refused during ${word}: ${word} must have no side effects` };
  }
  for (const cap of caps) {
    if (!ctx.granted.has(cap)) return { kind: "refusal", message: `capability ${cap} refused: not granted to this plugin (${name})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { kind: "refusal", message: `host call ${name}: request is not JSON` };
  }
  const parsed = v.safeParse(Schemas[name], raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join(".") ?? "";
    return { kind: "refusal", message: `host call ${name}: malformed request${where ? ` at ${where}` : ""}: ${issue?.message ?? "invalid"}` };
  }
  try {
    const value = await HANDLERS[name](ctx, parsed.output as never);
    return { kind: "reply", value };
  } catch (e) {
    if (e instanceof Refused) return { kind: "refusal", message: e.message };
    if (e instanceof UnsafeTarget) return { kind: "refusal", message: `${name} refused: ${e.message}` };
    const message = e instanceof Error ? e.message : String(e);
    return { kind: "failure", message: e instanceof CompressError ? message : `${name}: ${message}` };
  }
}
