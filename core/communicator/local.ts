// The `local` communicator: the "machine" is the imgb host itself (shell-local, and builders whose
// target is a local folder). Commands run in their own process group so that a timeout or an abort
// kills the whole tree (Packer kills only the /bin/sh wrapper and leaves the script's children running).
// `runLocalProcess` is also what the plugin host's `local_exec` uses; it is core/process's spawnChild
// in a process group, so every child of imgb is started, awaited and stopped one way.
import { chmod, copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { spawnChild, type Child } from "../process/child.ts";
import { CommunicatorError, type Communicator, type CommandResult, type DownloadTarget, type UploadOptions, type UploadSource } from "./types.ts";

export interface LocalProcessOptions {
  /** Variables added to (or replacing) imgb's own environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes written then closed, or a stream Bun copies as it arrives. */
  stdin?: Uint8Array | ReadableStream<Uint8Array>;
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
  /** Time between SIGTERM and SIGKILL for the group on abort (default 2000 ms). */
  killGraceMs?: number;
}

const TARGET = "local";

/**
 * Runs argv in a new process group and waits for it (core/process's spawnChild). On abort the group
 * gets SIGTERM, then SIGKILL after the grace period, and the result is "disconnected" with the abort reason.
 */
export async function runLocalProcess(argv: string[], opts: LocalProcessOptions, signal: AbortSignal): Promise<CommandResult> {
  if (argv.length === 0) throw new CommunicatorError("no command to run", TARGET);
  if (signal.aborted) return { kind: "disconnected", reason: abortReason(signal) };
  let child: Child;
  try {
    child = spawnChild(argv, {
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}) },
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      // Always read: a full pipe would stall the command.
      onStdout: opts.onStdout ?? (() => {}),
      ...(opts.onStderr ? { onStderr: opts.onStderr } : {}),
      signal,
      graceMs: opts.killGraceMs ?? 2000,
      processGroup: true,
    });
  } catch (e) {
    throw new CommunicatorError(`cannot start ${JSON.stringify(argv[0])}: ${(e as Error).message}`, TARGET);
  }
  const result = await child.done;
  if (signal.aborted) return { kind: "disconnected", reason: abortReason(signal) };
  return { kind: "exited", exitStatus: result.exitCode ?? (result.signalCode ? 128 : -1) };
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return typeof r === "string" ? r : "cancelled";
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (const ch of glob) {
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function excluded(relPath: string, patterns: RegExp[]): boolean {
  const name = basename(relPath);
  return patterns.some((p) => p.test(relPath) || p.test(name));
}

/** Copies a folder tree; modes are kept. */
async function copyTree(src: string, dest: string, patterns: RegExp[], root: string, signal: AbortSignal): Promise<void> {
  const st = await stat(src);
  await mkdir(dest, { recursive: true });
  await chmod(dest, st.mode & 0o7777);
  for (const entry of await readdir(src, { withFileTypes: true })) {
    if (signal.aborted) throw new CommunicatorError("copy cancelled", TARGET);
    const from = join(src, entry.name);
    const rel = relative(root, from);
    if (excluded(rel, patterns)) continue;
    const to = join(dest, entry.name);
    if (entry.isDirectory()) await copyTree(from, to, patterns, root, signal);
    else await copyFileKeepingMode(from, to);
  }
}

async function copyFileKeepingMode(from: string, to: string, mode?: number): Promise<void> {
  // A FIFO, socket or device would be read for ever (or fail midway): only regular files are copied.
  const st = await stat(from);
  if (!st.isFile()) throw new CommunicatorError(`${from} is not a regular file`, TARGET);
  await copyFile(from, to);
  await chmod(to, mode ?? st.mode & 0o7777);
}

/** rsync/Packer rule: "src/" copies the contents into dest, "src" copies the folder itself into dest. */
async function copyDirPackerStyle(src: string, dest: string, exclude: string[], signal: AbortSignal): Promise<void> {
  const patterns = exclude.map(globToRegExp);
  if (src.endsWith("/")) await copyTree(src, dest, patterns, src, signal);
  else await copyTree(src, join(dest, basename(src)), patterns, src, signal);
}

/** Runs a file operation; a failure becomes a CommunicatorError naming `what` (one of ours passes as is). */
async function failingAs<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof CommunicatorError) throw e;
    throw new CommunicatorError(`${what}: ${(e as Error).message}`, TARGET);
  }
}

export function localCommunicator(): Communicator {
  return {
    type: "local",
    async start(cmd, signal) {
      const opts: LocalProcessOptions = {};
      if (cmd.stdin) opts.stdin = cmd.stdin;
      if (cmd.onStdout) opts.onStdout = cmd.onStdout;
      if (cmd.onStderr) opts.onStderr = cmd.onStderr;
      return runLocalProcess(["/bin/sh", "-c", cmd.command], opts, signal);
    },
    async upload(dest: string, src: UploadSource, opts: UploadOptions, signal: AbortSignal) {
      if (signal.aborted) throw new CommunicatorError("upload cancelled", TARGET);
      await failingAs(`upload to ${dest}`, async () => {
        if (src.kind === "file") {
          // Bun.write streams file-to-file (copy_file_range/sendfile) without buffering the whole file.
          await copyFileKeepingMode(src.path, dest, opts.mode);
        } else {
          await Bun.write(dest, src.data);
          await chmod(dest, opts.mode ?? 0o644);
        }
      });
    },
    uploadDir: (dest, srcDir, exclude, signal) => failingAs(`upload of ${srcDir}`, () => copyDirPackerStyle(srcDir, dest, exclude, signal)),
    async download(src: string, target: DownloadTarget, signal: AbortSignal) {
      if (signal.aborted) throw new CommunicatorError("download cancelled", TARGET);
      return failingAs(`download of ${src}`, async () => {
        if (target.kind === "bytes") return new Uint8Array(await Bun.file(src).arrayBuffer());
        await copyFileKeepingMode(src, target.path);
        return null;
      });
    },
    downloadDir: (src, destDir, exclude, signal) => failingAs(`download of ${src}`, () => copyDirPackerStyle(src, destDir, exclude, signal)),
    async close() {},
  };
}
