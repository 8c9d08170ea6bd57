// A Communicator for machines reached by running a local program that executes a shell inside them
// (`podman exec`, `unshare … chroot`). Everything is built from one primitive, "run this script in
// the machine with these bytes on stdin": files go through `cat`, folders through `tar` on both
// sides, so modes are kept and nothing is buffered whole.
import { randomUUID } from "node:crypto";
import { basename, dirname } from "node:path";
import { mkdir, stat } from "node:fs/promises";
import type {
  CommandResult,
  Communicator,
  DownloadTarget,
  RemoteCommand,
  UploadOptions,
  UploadSource,
} from "../types.ts";
import { CommunicatorError } from "../types.ts";
import { spawnChild, type ChildOptions, type ChildResult } from "../../process/child.ts";
import { shellQuote } from "../../process/shell-quote.ts";
import { besideName, moveIntoPlaceScript, partialName, viaPartial } from "../partial-upload.ts";

export interface ExecTransport {
  /** Communicator type: "docker", "chroot". */
  type: string;
  /** Named in every error, e.g. "podman 3f2a1b". */
  target: string;
  /** The local argv that runs `/bin/sh -c script` inside the machine with stdin attached. */
  shellArgv(script: string): string[];
  /**
   * The argv file transfers run through, when it differs from shellArgv (the docker communicator
   * writes as root, as `docker cp` does, then chowns to uploadOwner).
   */
  transferShellArgv?(script: string): string[];
  /** chown target for uploaded files and folders. */
  uploadOwner?: string;
  /**
   * For machines where stopping the local program does not stop what it started inside (`podman
   * exec`): the argv that runs `/bin/sh -c script marker`, so the shell (a process-group leader)
   * carries `marker` as its last argument and can be found and killed with its whole group.
   */
  markedShellArgv?(script: string, marker: string): string[];
  /** Extra options for the local process (env, stop signal). */
  childOptions?: Partial<ChildOptions>;
  /** A result that means the transport itself failed (e.g. podman's 125), not the remote command. */
  transportFailure?(result: ChildResult): string | undefined;
  /** Undo what connecting did (nothing for most transports). */
  close?(): Promise<void>;
}

export function execCommunicator(t: ExecTransport): Communicator {
  const fail = (message: string) => new CommunicatorError(message, t.target);

  const transferArgv = (script: string) => (t.transferShellArgv ?? t.shellArgv)(script);

  /**
   * Why writing `path` fails, asked through exit codes: a short-lived `exec` may lose what the shell
   * printed (podman drops the stderr of a session that ends while stdin is still attached).
   */
  const diagnose = async (path: string, signal: AbortSignal): Promise<string> => {
    const q = shellQuote(path);
    const script = `d=$(dirname -- ${q}); [ -d "$d" ] || exit 10; [ -d ${q} ] && exit 11; [ -w "$d" ] || exit 12; exit 0`;
    const r = await spawnChild(transferArgv(script), { ...t.childOptions, signal }).done;
    const dir = dirname(path);
    switch (r.exitCode) {
      case 10:
        return `the folder ${dir} does not exist in the machine`;
      case 11:
        return `${path} is a folder`;
      case 12:
        return `${dir} is not writable`;
      default:
        return "the machine's shell gave no reason";
    }
  };

  /** Run a file-transfer script in the machine; throws unless it exits 0, always with a reason. */
  const runIn = async (script: string, what: string, extra: ChildOptions, signal: AbortSignal, target?: string): Promise<ChildResult> => {
    const result = await spawnChild(transferArgv(script), { ...t.childOptions, ...extra, signal }).done;
    if (result.aborted) throw fail(`${what}: cancelled`);
    if (result.exitCode !== 0) {
      const said = result.stderrTail.trim();
      const reason = said || (result.exitCode === null ? `killed by ${result.signalCode}` : target ? await diagnose(target, signal) : "the machine's shell gave no reason");
      throw fail(`${what} failed (exit ${result.exitCode ?? result.signalCode}): ${reason}`);
    }
    return result;
  };
  const chown = (q: string, recursive: boolean) => (t.uploadOwner ? ` && chown ${recursive ? "-R " : ""}${shellQuote(t.uploadOwner)} ${q}` : "");

  /** SIGKILLs the process group whose leader's last argument is `marker` (bounded: 10 s). */
  const killMarked = async (marker: string): Promise<void> => {
    const script = [
      "for d in /proc/[0-9]*; do",
      `  if [ "$(tr '\\000' '\\n' < "$d/cmdline" 2>/dev/null | tail -n 1)" = ${shellQuote(marker)} ]; then kill -9 "-\${d#/proc/}" 2>/dev/null; fi`,
      "done; true",
    ].join("\n");
    await spawnChild(t.shellArgv(script), { ...t.childOptions, signal: AbortSignal.timeout(10_000) }).done.catch(() => undefined);
  };

  return {
    type: t.type,

    async start(cmd: RemoteCommand, signal: AbortSignal): Promise<CommandResult> {
      const opts: ChildOptions = { ...t.childOptions, signal };
      if (cmd.stdin) opts.stdin = cmd.stdin;
      if (cmd.onStdout) opts.onStdout = cmd.onStdout;
      if (cmd.onStderr) opts.onStderr = cmd.onStderr;
      const marker = t.markedShellArgv ? `imgb-command-${randomUUID()}` : null;
      const argv = marker && t.markedShellArgv ? t.markedShellArgv(cmd.command, marker) : t.shellArgv(cmd.command);
      const result = await spawnChild(argv, opts).done;
      if (result.aborted) {
        // The local program is gone; the command's process group inside may not be.
        if (marker) await killMarked(marker);
        throw fail(`command cancelled: ${cmd.command}`);
      }
      const broken = t.transportFailure?.(result);
      if (broken) return { kind: "disconnected", reason: broken };
      if (result.exitCode === null) return { kind: "disconnected", reason: `killed by ${result.signalCode}` };
      return { kind: "exited", exitStatus: result.exitCode };
    },

    async upload(dest: string, src: UploadSource, opts: UploadOptions, signal: AbortSignal): Promise<void> {
      let mode = opts.mode;
      let total = 0;
      let mtime: Date | undefined;
      if (src.kind === "file") {
        const st = await stat(src.path).catch(() => undefined);
        if (!st) throw fail(`upload: cannot read ${src.name ?? src.path}`);
        mode ??= st.mode & 0o7777;
        total = st.size;
        mtime = st.mtime;
      } else {
        total = src.data.length;
      }
      mode ??= 0o644;
      // Written beside the destination and renamed into place in the same shell; removed on failure.
      const q = shellQuote(dest);
      const temp = besideName(dirname(dest), partialName(basename(dest)));
      const tq = shellQuote(temp);
      // Keep the local file's modification time, as `docker cp` does (POSIX touch -t, in UTC).
      const touch = mtime ? ` && TZ=UTC0 touch -t ${touchStamp(mtime)} ${tq}` : "";
      const script = `cat > ${tq} && chmod ${mode.toString(8)} ${tq}${touch}${chown(tq, false)} && { ${moveIntoPlaceScript(tq, q)}; }`;
      const stdin =
        src.kind === "bytes"
          ? src.data
          : opts.onProgress
            ? countingStream(Bun.file(src.path).stream(), (n) => opts.onProgress?.(n, total))
            : { file: src.path };
      await viaPartial(
        temp,
        () => runIn(script, `upload to ${dest}`, { stdin }, signal, dest).then(() => {}),
        async () => {},
        () => runIn(`rm -f -- ${tq}`, `removing ${temp}`, {}, AbortSignal.timeout(10_000)).then(() => {}),
      );
      opts.onProgress?.(total, total);
    },

    async uploadDir(dest: string, srcDir: string, exclude: string[], signal: AbortSignal): Promise<void> {
      // rsync rules: "src/" copies the contents, "src" copies the folder itself.
      const [cwd, entry] = srcDir.endsWith("/") ? [srcDir, "."] : [dirname(srcDir), basename(srcDir)];
      const pack = spawnChild(["tar", "-c", "-C", cwd, ...excludeArgs(exclude), entry], { pipeStdout: true, signal });
      const q = shellQuote(dest);
      try {
        await runIn(
          `mkdir -p ${q} && tar -x --no-same-owner -C ${q}${t.uploadOwner ? ` && cd ${q} && chown -R ${shellQuote(t.uploadOwner)} ${shellQuote(entry)}` : ""}`,
          `upload of ${srcDir} to ${dest}`,
          { stdin: pack.stdout! },
          signal,
          dest.replace(/\/+$/, "") || "/",
        );
      } catch (err) {
        await pack.stop(1000);
        throw err;
      }
      const packed = await pack.done;
      if (packed.exitCode !== 0) throw fail(`upload of ${srcDir}: local tar failed: ${packed.stderrTail.trim()}`);
    },

    async download(src: string, target: DownloadTarget, signal: AbortSignal): Promise<Uint8Array | null> {
      const script = `cat ${shellQuote(src)}`;
      if (target.kind === "bytes") {
        const result = await runIn(script, `download of ${src}`, { captureStdout: true }, signal);
        return result.stdout;
      }
      await mkdir(dirname(target.path), { recursive: true });
      const sink = Bun.file(target.path).writer();
      try {
        await runIn(script, `download of ${src}`, { onStdout: (c) => void sink.write(c) }, signal);
      } finally {
        await sink.end();
      }
      return null;
    },

    async downloadDir(src: string, destDir: string, exclude: string[], signal: AbortSignal): Promise<void> {
      const trimmed = src.replace(/\/+$/, "") || "/";
      const [cwd, entry] = src.endsWith("/") ? [trimmed, "."] : [dirname(trimmed), basename(trimmed)];
      const script = `tar -c -C ${shellQuote(cwd)} ${excludeArgs(exclude).map(shellQuote).join(" ")} ${shellQuote(entry)}`;
      await mkdir(destDir, { recursive: true });
      const pack = spawnChild(t.shellArgv(script), { ...t.childOptions, pipeStdout: true, signal });
      const unpack = await spawnChild(["tar", "-x", "--no-same-owner", "-C", destDir], {
        stdin: pack.stdout!,
        signal,
      }).done;
      const packed = await pack.done;
      if (packed.aborted || unpack.aborted) throw fail(`download of ${src}: cancelled`);
      if (packed.exitCode !== 0) throw fail(`download of ${src} failed: ${packed.stderrTail.trim()}`);
      if (unpack.exitCode !== 0) throw fail(`download of ${src}: local tar failed: ${unpack.stderrTail.trim()}`);
    },

    async close(): Promise<void> {
      await t.close?.();
    },
  };
}

/** [[CC]YY]MMDDhhmm[.SS] for `touch -t`, in UTC. */
function touchStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}.${p(d.getUTCSeconds())}`;
}

function excludeArgs(patterns: string[]): string[] {
  return patterns.map((p) => `--exclude=${p}`);
}

function countingStream(source: ReadableStream<Uint8Array>, onCount: (n: number) => void): ReadableStream<Uint8Array> {
  let n = 0;
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        n += chunk.length;
        onCount(n);
        controller.enqueue(chunk);
      },
    }),
  );
}
