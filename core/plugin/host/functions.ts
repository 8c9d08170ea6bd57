// The host functions of ABI imgb-plugin/1 (docs/plugin-abi.md §3), served in the parent process.
// Every request is validated with valibot. A malformed or oversized request, a capability that was
// not granted, a path outside its grant or a UI flood is a *refusal*: it is recorded on the call
// (the call fails with it whatever the plugin does next) and answered with {"error": ...}.
// Operational failures (a missing file, a dropped connection) are plain {"error": ...} replies.
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import * as v from "valibot";
import type { JsonValue } from "../../values/json.ts";
import type { CommandResult } from "../../communicator/types.ts";
import { runLocalProcess } from "../../communicator/local.ts";
import { CAPABILITY_OF, PURE_FUNCTIONS, type HostCallContext } from "./context.ts";
import { artifactRoots, checkPath, extraRoots, openForWrite, outputRoots, projectRoots, recordWrite, UnsafeTarget, type Root } from "./paths.ts";
import { checkUploadTree, commitStaged, stagingFolder } from "./trees.ts";
import { renderPluginTemplate } from "./template-adapter.ts";
import { LineSplitter } from "./lines.ts";
import { IMAGE_REF, importImage, saveImage, tagImage } from "./container-images.ts";
import { STREAM_FUNCTIONS, serveStreamCall } from "../streams/host-functions.ts";
import { CommProxyClose, CommProxyOpen, closeCommProxy, openCommProxy } from "./comm-proxy.ts";
import { ImagePush, pushImages } from "./image-push.ts";
import type { ProgressTracker, Ui } from "../../ui/types.ts";
import type { UploadOptions } from "../../communicator/types.ts";

/** Largest chunk a file read returns (base64 grows it by a third; stays under the message limit). */
export const MAX_READ_CHUNK = 4 * 2 ** 20;

class Refusal extends Error {}
class HostFailure extends Error {}

const Json = v.unknown() as v.GenericSchema<JsonValue>;
const Message = v.object({ message: v.string() });
const Output = v.optional(v.picklist(["ui", "return"]), "ui");
const Mode = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o7777)));
const Base64 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, "is not base64"));
const StringList = v.optional(v.array(v.string()), []);
const ImageRef = v.pipe(v.string(), v.regex(IMAGE_REF, "is not an image name like repository or registry/repository:tag"));

const Schemas = {
  ui_say: Message,
  ui_message: Message,
  ui_error: Message,
  ui_ask: v.object({ query: v.string() }),
  ui_progress: v.variant("op", [
    v.object({ op: v.literal("start"), label: v.string(), total: v.optional(v.number()) }),
    v.object({ op: v.literal("update"), id: v.number(), done: v.number() }),
    v.object({ op: v.literal("finish"), id: v.number() }),
  ]),
  template_render: v.object({ template: v.string(), data: v.optional(v.record(v.string(), Json), {}) }),
  comm_start: v.object({ command: v.string(), stdin_base64: v.optional(Base64), output: Output }),
  comm_upload: v.object({
    dest: v.string(),
    src: v.union([v.object({ path: v.string() }), v.object({ data_base64: Base64 })]),
    mode: Mode,
  }),
  comm_upload_dir: v.object({ dest: v.string(), src: v.string(), exclude: StringList }),
  comm_download: v.object({ src: v.string(), dest: v.union([v.object({ path: v.string() }), v.object({ return: v.literal(true) })]) }),
  comm_download_dir: v.object({ src: v.string(), dest: v.string(), exclude: StringList }),
  local_exec: v.object({
    argv: v.pipe(v.array(v.string()), v.minLength(1, "argv is empty")),
    env: v.optional(v.record(v.string(), v.string())),
    cwd: v.optional(v.string()),
    stdin_base64: v.optional(Base64),
    output: Output,
  }),
  local_file_read: v.object({ path: v.string(), offset: v.optional(v.number(), 0), length: v.optional(v.number()) }),
  local_file_write: v.object({ path: v.string(), data_base64: Base64, append: v.optional(v.boolean(), false), mode: Mode }),
  temp_file: v.object({
    prefix: v.optional(v.string(), "imgb-"),
    suffix: v.optional(v.string(), ""),
    data_base64: v.optional(Base64, ""),
    mode: v.optional(v.number(), 0o600),
  }),
  artifact_read: v.object({ path: v.string(), offset: v.optional(v.number(), 0), length: v.optional(v.number()) }),
  artifact_write: v.object({ path: v.string(), data_base64: Base64, append: v.optional(v.boolean(), false), mode: Mode }),
  image_tag: v.object({ ref: ImageRef }),
  image_save: v.object({ path: v.string() }),
  image_import: v.object({ path: v.string(), ref: ImageRef, changes: StringList }),
  image_push: ImagePush,
  comm_proxy_open: CommProxyOpen,
  comm_proxy_close: CommProxyClose,
  plugin_error: v.object({ message: v.string() }),
  now: v.object({}),
  sleep: v.object({ ms: v.pipe(v.number(), v.minValue(0), v.maxValue(2 ** 31)) }),
} as const;

type FnName = keyof typeof Schemas;
type Req<F extends FnName> = v.InferOutput<(typeof Schemas)[F]>;

function b64(data: string | undefined): Uint8Array {
  return data ? new Uint8Array(Buffer.from(data, "base64")) : new Uint8Array(0);
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === "string" ? r : "cancelled";
}

function phaseWord(ctx: HostCallContext): string {
  return ctx.phase === "describe" ? "describe" : "prepare";
}

/** Serves one host call. Never throws: every outcome is a JSON reply. */
export async function handleHostCall(ctx: HostCallContext, fn: string, payload: string): Promise<string> {
  try {
    const result = await dispatch(ctx, fn, payload);
    return JSON.stringify(result);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof Refusal) ctx.refusal ??= message;
    ctx.lastError = message;
    return JSON.stringify({ error: message });
  }
}

async function dispatch(ctx: HostCallContext, fn: string, payload: string): Promise<Record<string, JsonValue>> {
  if (payload.length > ctx.limits.messageBytes || payload.startsWith('{"__oversized":')) {
    throw new Refusal(`host call ${fn}: request is over the message limit of ${ctx.limits.messageBytes} bytes`);
  }
  // Streaming post-processor primitives (hash_files, compress_files, ...): core/plugin/streams/.
  if (STREAM_FUNCTIONS.has(fn)) {
    const r = await serveStreamCall(ctx, fn, payload);
    if (r.kind === "refusal") throw new Refusal(r.message);
    if (r.kind === "failure") throw new HostFailure(r.message);
    return r.value;
  }
  if (!(fn in Schemas)) throw new Refusal(`unknown host function ${fn}`);
  const name = fn as FnName;
  const cap = CAPABILITY_OF[name] ?? null;
  if (ctx.phase !== "run" && !PURE_FUNCTIONS.has(name)) {
    const what = cap ? `capability ${cap}` : `host function ${name}`;
    throw new Refusal(`${what} refused during ${phaseWord(ctx)}: ${phaseWord(ctx)} must have no side effects`);
  }
  if (cap && !ctx.granted.has(cap)) {
    throw new Refusal(`capability ${cap} refused: not granted to this plugin (${name})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    throw new Refusal(`host call ${name}: request is not JSON`);
  }
  const parsed = v.safeParse(Schemas[name], raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new Refusal(`host call ${name}: malformed request${where ? ` at ${where}` : ""}: ${issue?.message ?? "invalid"}`);
  }
  if (name.startsWith("ui_") && name !== "ui_ask" && !ctx.ui_bucket.take()) {
    throw new Refusal(`too many UI messages (limit ${ctx.limits.uiBurst} at once, ${ctx.limits.uiPerSecond} a second)`);
  }
  return HANDLERS[name](ctx, parsed.output as never);
}

function refuseCap(cap: string, path: string, reason: string): never {
  throw new Refusal(`capability ${cap} refused for ${JSON.stringify(path)}: ${reason}`);
}

/** Grants, with the words explaining roots that were left out (a working directory too broad to grant). */
interface Grant {
  roots: Root[];
  note?: string;
}

/** The one grant check every path a plugin names goes through. */
async function allowed(cap: string, path: string, grant: Grant | Root[]): Promise<string> {
  const g = Array.isArray(grant) ? { roots: grant } : grant;
  const r = await checkPath(path, g.roots);
  if (!r.ok) refuseCap(cap, path, r.reason + (r.reason.startsWith("outside") ? (g.note ?? "") : ""));
  return r.path;
}

function tempRoots(ctx: HostCallContext, paths: string[]): Root[] {
  return paths.filter((p) => ctx.temp?.has(p)).map((p) => ({ path: p, exact: true, label: "the plugin's temp files" }));
}

/** What a plugin may read: the template and working directories (unless too broad), -allow-path folders, its temp files. */
function readable(ctx: HostCallContext, path: string): Grant {
  const p = projectRoots(ctx, true);
  return { roots: [...p.roots, ...extraRoots(ctx), ...tempRoots(ctx, [path])], note: p.note };
}

/** Where a download may land: the working directory (unless too broad), the output directory, its temp files. */
function downloadable(ctx: HostCallContext, path: string): Grant {
  const p = projectRoots(ctx, false);
  return { roots: [...p.roots, ...outputRoots(ctx), ...tempRoots(ctx, [path])], note: p.note };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new HostFailure(`${what} is not available here`);
  return value;
}

/** Streams a command's output to the UI as Packer's RunWithUi, or collects it (capped). */
function outputSinks(ctx: HostCallContext, mode: "ui" | "return") {
  const cap = Math.floor(ctx.limits.messageBytes / 4);
  if (mode === "ui") {
    const ui = need(ctx.ui, "the UI");
    const out = new LineSplitter((l) => ui.message(l));
    const err = new LineSplitter((l) => ui.error(l));
    return {
      onStdout: (c: Uint8Array) => out.push(c),
      onStderr: (c: Uint8Array) => err.push(c),
      finish: (): Record<string, JsonValue> => {
        out.flush();
        err.flush();
        return {};
      },
    };
  }
  const chunks = { out: [] as Uint8Array[], err: [] as Uint8Array[], outLen: 0, errLen: 0 };
  return {
    onStdout: (c: Uint8Array) => {
      if (chunks.outLen < cap) chunks.out.push(c.subarray(0, cap - chunks.outLen));
      chunks.outLen += c.length;
    },
    onStderr: (c: Uint8Array) => {
      if (chunks.errLen < cap) chunks.err.push(c.subarray(0, cap - chunks.errLen));
      chunks.errLen += c.length;
    },
    finish: (): Record<string, JsonValue> => ({
      stdout: Buffer.concat(chunks.out).toString("utf8"),
      stderr: Buffer.concat(chunks.err).toString("utf8"),
    }),
  };
}

function commandReply(r: CommandResult, extra: Record<string, JsonValue>): Record<string, JsonValue> {
  if (r.kind === "disconnected") return { disconnected: r.reason, ...extra };
  return { exit_status: r.exitStatus, ...extra };
}

async function readChunk(path: string, offset: number, length: number | undefined): Promise<Record<string, JsonValue>> {
  const want = Math.min(length ?? MAX_READ_CHUNK, MAX_READ_CHUNK);
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.max(0, Math.min(want, size - offset)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return { data_base64: buf.subarray(0, bytesRead).toString("base64"), eof: offset + bytesRead >= size, size };
  } finally {
    await fh.close();
  }
}

async function writeChunk(ctx: HostCallContext, path: string, data: Uint8Array, append: boolean, mode: number | undefined): Promise<void> {
  const { fh, created } = await openForWrite(path, { append, mode: mode ?? 0o644 });
  recordWrite(ctx, path, created);
  try {
    await fh.writeFile(data);
    if (mode !== undefined) await fh.chmod(mode);
  } finally {
    await fh.close();
  }
}

async function wrapFs<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Refusal || e instanceof HostFailure) throw e;
    if (e instanceof UnsafeTarget) throw new Refusal(`${what} refused: ${e.message}`);
    throw new HostFailure(`${what}: ${(e as Error).message}`);
  }
}

type Handlers = { [F in FnName]: (ctx: HostCallContext, req: Req<F>) => Promise<Record<string, JsonValue>> };

/** The clock a plugin sees (the sandbox child serves `now` itself; this is the same answer). */
export function nowReply(): Record<string, JsonValue> {
  return { unix_ms: Date.now(), monotonic_ms: performance.now() + performance.timeOrigin };
}

const HANDLERS: Handlers = {
  async now() {
    return nowReply();
  },
  async sleep(ctx, req) {
    // Waiting is host time on the plugin's behalf: it ends on the call's abort (timeout, Ctrl-C).
    if (ctx.signal.aborted) throw new HostFailure(`sleep: ${abortReason(ctx.signal)}`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, req.ms);
      ctx.signal.addEventListener("abort", done, { once: true });
    });
    if (ctx.signal.aborted) throw new HostFailure(`sleep: ${abortReason(ctx.signal)}`);
    return {};
  },
  async plugin_error(ctx, req) {
    // A trap loses Extism's error_set message: the SDK reports it here first (see runtime.ts).
    ctx.pluginError = req.message;
    return {};
  },
  async ui_say(ctx, req) {
    ctx.ui?.say(req.message);
    return {};
  },
  async ui_message(ctx, req) {
    ctx.ui?.message(req.message);
    return {};
  },
  async ui_error(ctx, req) {
    ctx.ui?.error(req.message);
    return {};
  },
  async ui_ask(ctx, req) {
    const answer = await need(ctx.ui, "the UI").ask(req.query);
    return { answer };
  },
  async ui_progress(ctx, req): Promise<Record<string, JsonValue>> {
    const ui = need(ctx.ui, "the UI");
    if (req.op === "start") {
      const id = ++ctx.progressIds;
      ctx.progress.set(id, ui.progress(req.label, req.total));
      return { id };
    }
    const tracker = ctx.progress.get(req.id);
    if (!tracker) throw new HostFailure(`no progress tracker ${req.id}`);
    if (req.op === "update") tracker.update(req.done);
    else {
      tracker.finish();
      ctx.progress.delete(req.id);
    }
    return {};
  },
  async template_render(ctx, req) {
    try {
      return { result: renderPluginTemplate(req.template, req.data, ctx.build, ctx.templateDir) };
    } catch (e) {
      throw new HostFailure(`template_render: ${(e as Error).message}`);
    }
  },
  async comm_start(ctx, req) {
    const comm = need(ctx.communicator, "the communicator");
    const sinks = outputSinks(ctx, req.output);
    const cmd: Parameters<typeof comm.start>[0] = { command: req.command, onStdout: sinks.onStdout, onStderr: sinks.onStderr };
    if (req.stdin_base64) cmd.stdin = b64(req.stdin_base64);
    const r = await wrapFs("comm_start", () => comm.start(cmd, ctx.signal));
    return commandReply(r, sinks.finish());
  },
  async comm_upload(ctx, req) {
    const comm = need(ctx.communicator, "the communicator");
    const opts: UploadOptions = req.mode !== undefined ? { mode: req.mode } : {};
    if ("path" in req.src) {
      const path = await allowed("communicator", req.src.path, readable(ctx, req.src.path));
      const progress = uploadProgress(ctx.ui, req.dest);
      opts.onProgress = progress.update;
      await wrapFs("comm_upload", () => comm.upload(req.dest, { kind: "file", path }, opts, ctx.signal));
      progress.finish();
    } else {
      const data = b64(req.src.data_base64);
      await wrapFs("comm_upload", () => comm.upload(req.dest, { kind: "bytes", data }, opts, ctx.signal));
    }
    return {};
  },
  async comm_upload_dir(ctx, req) {
    const comm = need(ctx.communicator, "the communicator");
    const grant = readable(ctx, req.src);
    const src = await allowed("communicator", req.src, grant);
    // Every entry (a symlink anywhere in the tree) must resolve inside the same grants as the folder.
    const bad = await wrapFs("comm_upload_dir", () => checkUploadTree(src, (p) => checkPath(p, grant.roots)));
    if (bad) refuseCap("communicator", bad.path, bad.reason + (bad.reason.startsWith("outside") ? (grant.note ?? "") : ""));
    await wrapFs("comm_upload_dir", () => comm.uploadDir(req.dest, req.src.endsWith("/") ? src + "/" : src, req.exclude, ctx.signal));
    return {};
  },
  async comm_download(ctx, req): Promise<Record<string, JsonValue>> {
    const comm = need(ctx.communicator, "the communicator");
    if ("path" in req.dest) {
      const dest = await allowed("communicator", req.dest.path, downloadable(ctx, req.dest.path));
      // Downloaded to a private staging folder beside dest, then moved in by rename (never through a link).
      await wrapFs("comm_download", async () => {
        const staging = await stagingFolder(dirname(dest));
        try {
          const staged = `${staging.path}/file`;
          await comm.download(req.src, { kind: "file", path: staged }, ctx.signal);
          await commitStaged(staged, dest, (p, created) => recordWrite(ctx, p, created));
        } finally {
          await staging.remove();
        }
      });
      return {};
    }
    const bytes = await wrapFs("comm_download", () => comm.download(req.src, { kind: "bytes" }, ctx.signal));
    const data = bytes ?? new Uint8Array(0);
    if (data.length > (ctx.limits.messageBytes * 3) / 4) {
      throw new HostFailure(`comm_download: ${req.src} is ${data.length} bytes, too large to return; download it to a file`);
    }
    return { data_base64: Buffer.from(data).toString("base64") };
  },
  async comm_download_dir(ctx, req) {
    const comm = need(ctx.communicator, "the communicator");
    const dest = await allowed("communicator", req.dest, downloadable(ctx, req.dest));
    // The communicator writes into a private staging folder; the tree is then copied into dest with
    // every entry checked (no symlink followed, no hard-linked file written), whatever the communicator.
    await wrapFs("comm_download_dir", async () => {
      const staging = await stagingFolder(dest);
      try {
        await comm.downloadDir(req.src, staging.path, req.exclude, ctx.signal);
        await commitStaged(staging.path, dest, (p, created) => recordWrite(ctx, p, created));
      } finally {
        await staging.remove();
      }
    });
    return {};
  },
  async local_exec(ctx, req) {
    const sinks = outputSinks(ctx, req.output);
    const opts: Parameters<typeof runLocalProcess>[1] = { onStdout: sinks.onStdout, onStderr: sinks.onStderr };
    if (req.env) opts.env = req.env;
    if (req.cwd) opts.cwd = req.cwd;
    if (req.stdin_base64) opts.stdin = b64(req.stdin_base64);
    const r = await wrapFs("local_exec", () => runLocalProcess(req.argv, opts, ctx.signal));
    return commandReply(r, sinks.finish());
  },
  async local_file_read(ctx, req) {
    const path = await allowed("local_file_read", req.path, readable(ctx, req.path));
    return wrapFs("local_file_read", () => readChunk(path, req.offset, req.length));
  },
  async local_file_write(ctx, req) {
    const path = await allowed("local_file_write", req.path, [...tempRoots(ctx, [req.path]), ...outputRoots(ctx)]);
    await wrapFs("local_file_write", () => writeChunk(ctx, path, b64(req.data_base64), req.append, req.mode));
    return {};
  },
  async temp_file(ctx, req) {
    const temp = need(ctx.temp, "temp files");
    const path = await wrapFs("temp_file", () => temp.create(req.prefix, req.suffix, b64(req.data_base64), req.mode));
    return { path };
  },
  async artifact_read(ctx, req) {
    const path = await allowed("artifact_read", req.path, [...artifactRoots(ctx), ...outputRoots(ctx)]);
    return wrapFs("artifact_read", () => readChunk(path, req.offset, req.length));
  },
  async artifact_write(ctx, req) {
    const path = await allowed("artifact_write", req.path, outputRoots(ctx));
    await wrapFs("artifact_write", () => writeChunk(ctx, path, b64(req.data_base64), req.append, req.mode));
    return {};
  },
  // Only the input artifact's own image (or its files, for import), through the engine the host
  // chose: the plugin names the new tag or the file, never the image or the program.
  async image_tag(ctx, req) {
    const c = need(ctx.containers, "a container engine");
    const image = need(c.image, "a container image (the input artifact is not one)");
    await wrapFs("image_tag", () => tagImage({ ref: image, engine: c.engine }, req.ref, ctx.signal));
    c.named.push(req.ref);
    return {};
  },
  async image_save(ctx, req) {
    const c = need(ctx.containers, "a container engine");
    const image = need(c.image, "a container image (the input artifact is not one)");
    const path = await allowed("container_image", req.path, downloadable(ctx, req.path));
    // Saved in a private staging folder beside the path, then moved in by rename (never through a link).
    await wrapFs("image_save", async () => {
      const staging = await stagingFolder(dirname(path));
      try {
        const staged = `${staging.path}/image.tar`;
        await saveImage({ ref: image, engine: c.engine }, staged, ctx.signal);
        await commitStaged(staged, path, (p, created) => recordWrite(ctx, p, created));
      } finally {
        await staging.remove();
      }
    });
    return {};
  },
  image_push: (ctx, req) => wrapFs("image_push", () => pushImages(ctx, req)),
  comm_proxy_open: (ctx, req) => wrapFs("comm_proxy_open", () => openCommProxy(ctx, req)),
  comm_proxy_close: (ctx, req) => wrapFs("comm_proxy_close", () => closeCommProxy(ctx, req)),
  async image_import(ctx, req) {
    const c = need(ctx.containers, "a container engine");
    const path = await allowed("container_image", req.path, artifactRoots(ctx));
    const id = await wrapFs("image_import", () => importImage(c.engine, path, req.ref, req.changes, ctx.signal));
    c.named.push(req.ref);
    return { id };
  },
};

/** Transfers of more than a few MiB report progress on the UI; small ones stay quiet. */
const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

function uploadProgress(ui: Ui | undefined, dest: string): { update: (done: number, total: number) => void; finish: () => void } {
  let tracker: ProgressTracker | undefined;
  return {
    update(done, total) {
      if (!ui || total < PROGRESS_MIN_BYTES) return;
      tracker ??= ui.progress(`Uploading to ${dest}`, total);
      tracker.update(done);
    },
    finish() {
      tracker?.finish();
    },
  };
}
