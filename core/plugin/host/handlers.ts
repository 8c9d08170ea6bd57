// Handlers of the host functions the plugin host serves (docs/plugin-abi.md §3), one per JSON
// function of table.ts except the streaming ones (../streams/handlers.ts). Each gets a request the
// gate (gate.ts) has checked against the phase, the capabilities and the table's schema; it throws
// Refusal for a path outside its grant and HostFailure for what went wrong on the host.
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { readClock } from "./clock.ts";
import type { CommandResult } from "../../communicator/types.ts";
import { runLocalProcess } from "../../communicator/local.ts";
import type { HostCallContext } from "./context.ts";
import { allowed, allowedFile, artifactRoots, checkPath, descriptorPath, extraRoots, openForRead, openForWrite, outputRoots, projectRoots, recordWrite, type CheckedFile, type Grant, type Root } from "./paths.ts";
import { checkUploadTree, commitStaged, stagingFolder } from "./trees.ts";
import { renderPluginTemplate } from "./template-adapter.ts";
import { LineSplitter } from "./lines.ts";
import { importImage, saveImage, tagImage } from "./container-images.ts";
import { closeCommProxy, openCommProxy } from "./comm-proxy.ts";
import { pushImages } from "./image-push.ts";
import { HostFailure, refuseCap } from "./refusal.ts";
import type { Handlers, ReplyOf } from "./table.ts";
import type { StreamFunctionName } from "../streams/handlers.ts";
import type { ProgressTracker, Ui } from "../../ui/types.ts";
import type { UploadOptions } from "../../communicator/types.ts";

/** Largest chunk a file read returns (base64 grows it by a third; stays under the message limit). */
const MAX_READ_CHUNK = 4 * 2 ** 20;

function b64(data: string | undefined): Uint8Array {
  return data ? new Uint8Array(Buffer.from(data, "base64")) : new Uint8Array(0);
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === "string" ? r : "cancelled";
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

/** What a command answers besides its status: its output, when the plugin asked for it back. */
type Output = Pick<ReplyOf<"comm_start">, "stdout" | "stderr">;

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
      finish: (): Output => {
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
    finish: (): Output => ({
      stdout: Buffer.concat(chunks.out).toString("utf8"),
      stderr: Buffer.concat(chunks.err).toString("utf8"),
    }),
  };
}

function commandReply(r: CommandResult, extra: Output): ReplyOf<"comm_start"> {
  if (r.kind === "disconnected") return { disconnected: r.reason, ...extra };
  return { exit_status: r.exitStatus, ...extra };
}

async function readChunk(file: CheckedFile, offset: number, length: number | undefined): Promise<ReplyOf<"local_file_read">> {
  const want = Math.min(length ?? MAX_READ_CHUNK, MAX_READ_CHUNK);
  const fh = await openForRead(file);
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.max(0, Math.min(want, size - offset)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return { data_base64: buf.subarray(0, bytesRead).toString("base64"), eof: offset + bytesRead >= size, size };
  } finally {
    await fh.close();
  }
}

async function writeChunk(ctx: HostCallContext, file: CheckedFile, data: Uint8Array, append: boolean, mode: number | undefined): Promise<void> {
  const { fh, created } = await openForWrite(file.path, { append, mode: mode ?? 0o644, real: file.real });
  recordWrite(ctx, file.path, created);
  try {
    await fh.writeFile(data);
    if (mode !== undefined) await fh.chmod(mode);
  } finally {
    await fh.close();
  }
}

/** The clock a plugin sees (the sandbox child serves `now` itself; this is the same answer). */
function nowReply(): ReplyOf<"now"> {
  return readClock();
}

/** Every JSON function of the table but the streaming ones (the compiler checks none is missing). */
export const HOST_HANDLERS: Omit<Handlers, StreamFunctionName> = {
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
  async ui_progress(ctx, req): Promise<ReplyOf<"ui_progress">> {
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
    const r = await comm.start(cmd, ctx.signal);
    return commandReply(r, sinks.finish());
  },
  async comm_upload(ctx, req) {
    const comm = need(ctx.communicator, "the communicator");
    const opts: UploadOptions = req.mode !== undefined ? { mode: req.mode } : {};
    if ("path" in req.src) {
      const file = await allowedFile("communicator", req.src.path, readable(ctx, req.src.path));
      // Opened and confirmed here (a regular file, the one checked); the communicator reads that very
      // file through the open descriptor, so no link swapped in later and no FIFO reaches it.
      const fh = await openForRead(file);
      try {
        const progress = uploadProgress(ctx.ui, req.dest);
        opts.onProgress = progress.update;
        await comm.upload(req.dest, { kind: "file", path: descriptorPath(fh.fd, file.real), name: file.path }, opts, ctx.signal);
        progress.finish();
      } finally {
        await fh.close();
      }
    } else {
      const data = b64(req.src.data_base64);
      await comm.upload(req.dest, { kind: "bytes", data }, opts, ctx.signal);
    }
    return {};
  },
  async comm_upload_dir(ctx, req) {
    const comm = need(ctx.communicator, "the communicator");
    const grant = readable(ctx, req.src);
    const src = await allowed("communicator", req.src, grant);
    // Every entry (a symlink anywhere in the tree) must resolve inside the same grants as the folder.
    const bad = await checkUploadTree(src, (p) => checkPath(p, grant.roots));
    if (bad) refuseCap("communicator", bad.path, bad.reason + (bad.reason.startsWith("outside") ? (grant.note ?? "") : ""));
    await comm.uploadDir(req.dest, req.src.endsWith("/") ? src + "/" : src, req.exclude, ctx.signal);
    return {};
  },
  async comm_download(ctx, req): Promise<ReplyOf<"comm_download">> {
    const comm = need(ctx.communicator, "the communicator");
    if ("path" in req.dest) {
      const dest = await allowed("communicator", req.dest.path, downloadable(ctx, req.dest.path));
      // Downloaded to a private staging folder beside dest, then moved in by rename (never through a link).
      {
        const staging = await stagingFolder(dirname(dest));
        try {
          const staged = `${staging.path}/file`;
          await comm.download(req.src, { kind: "file", path: staged }, ctx.signal);
          await commitStaged(staged, dest, (p, created) => recordWrite(ctx, p, created));
        } finally {
          await staging.remove();
        }
      }
      return {};
    }
    const bytes = await comm.download(req.src, { kind: "bytes" }, ctx.signal);
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
    {
      const staging = await stagingFolder(dest);
      try {
        await comm.downloadDir(req.src, staging.path, req.exclude, ctx.signal);
        await commitStaged(staging.path, dest, (p, created) => recordWrite(ctx, p, created));
      } finally {
        await staging.remove();
      }
    }
    return {};
  },
  async local_exec(ctx, req) {
    const sinks = outputSinks(ctx, req.output);
    const opts: Parameters<typeof runLocalProcess>[1] = { onStdout: sinks.onStdout, onStderr: sinks.onStderr };
    if (req.env) opts.env = req.env;
    if (req.cwd) opts.cwd = req.cwd;
    if (req.stdin_base64) opts.stdin = b64(req.stdin_base64);
    const r = await runLocalProcess(req.argv, opts, ctx.signal);
    return commandReply(r, sinks.finish());
  },
  async local_file_read(ctx, req) {
    const file = await allowedFile("local_file_read", req.path, readable(ctx, req.path));
    return readChunk(file, req.offset, req.length);
  },
  async local_file_write(ctx, req) {
    const file = await allowedFile("local_file_write", req.path, [...tempRoots(ctx, [req.path]), ...outputRoots(ctx)]);
    await writeChunk(ctx, file, b64(req.data_base64), req.append, req.mode);
    return {};
  },
  async temp_file(ctx, req) {
    const temp = need(ctx.temp, "temp files");
    const path = await temp.create(req.prefix, req.suffix, b64(req.data_base64), req.mode);
    return { path };
  },
  async artifact_read(ctx, req) {
    const file = await allowedFile("artifact_read", req.path, [...artifactRoots(ctx), ...outputRoots(ctx)]);
    return readChunk(file, req.offset, req.length);
  },
  async artifact_write(ctx, req) {
    const file = await allowedFile("artifact_write", req.path, outputRoots(ctx));
    await writeChunk(ctx, file, b64(req.data_base64), req.append, req.mode);
    return {};
  },
  // Only the input artifact's own image (or its files, for import), through the engine the host
  // chose: the plugin names the new tag or the file, never the image or the program.
  async image_tag(ctx, req) {
    const c = need(ctx.containers, "a container engine");
    const image = need(c.image, "a container image (the input artifact is not one)");
    await tagImage({ ref: image, engine: c.engine }, req.ref, ctx.signal);
    c.named.push(req.ref);
    return {};
  },
  async image_save(ctx, req) {
    const c = need(ctx.containers, "a container engine");
    const image = need(c.image, "a container image (the input artifact is not one)");
    const path = await allowed("container_image", req.path, downloadable(ctx, req.path));
    // Saved in a private staging folder beside the path, then moved in by rename (never through a link).
    {
      const staging = await stagingFolder(dirname(path));
      try {
        const staged = `${staging.path}/image.tar`;
        await saveImage({ ref: image, engine: c.engine }, staged, ctx.signal);
        await commitStaged(staged, path, (p, created) => recordWrite(ctx, p, created));
      } finally {
        await staging.remove();
      }
    }
    return {};
  },
  image_push: pushImages,
  comm_proxy_open: openCommProxy,
  comm_proxy_close: closeCommProxy,
  async image_import(ctx, req) {
    const c = need(ctx.containers, "a container engine");
    const path = await allowed("container_image", req.path, artifactRoots(ctx));
    const id = await importImage(c.engine, path, req.ref, req.changes, ctx.signal);
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
