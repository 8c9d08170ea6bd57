// Child processes that are always waited on. PID 1 on a build host may not reap orphans, and a
// container, VM or namespace left running outlives the build, so every process a builder starts goes
// through here: it is awaited, stopped on abort (TERM, then KILL after a grace period), and its
// stderr tail is kept for the error message.

export type StdinSource = Uint8Array | { file: string } | ReadableStream<Uint8Array>;

export interface ChildOptions {
  stdin?: StdinSource;
  /** Streamed stdout; when absent and `captureStdout` is not set, stdout is discarded. */
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
  /** Keep stdout in memory (for short outputs: ids, JSON). */
  captureStdout?: boolean;
  /** Hand stdout to the caller as a stream (to pipe into another process). */
  pipeStdout?: boolean;
  env?: Record<string, string | undefined>;
  cwd?: string;
  signal?: AbortSignal;
  /** Signal sent first on abort; some processes (unshare --kill-child) need SIGKILL straight away. */
  stopSignal?: NodeJS.Signals;
  /** Time between the stop signal and SIGKILL. */
  graceMs?: number;
  /**
   * Start the command as the leader of its own process group (setsid) and signal the whole group:
   * a shell's children die with it, and after an abort nothing of the group survives the leader.
   */
  processGroup?: boolean;
}

export interface ChildResult {
  exitCode: number | null;
  signalCode: string | null;
  stdout: Uint8Array;
  /** The last few KiB of stderr, for messages. */
  stderrTail: string;
  aborted: boolean;
}

export interface Child {
  readonly pid: number;
  readonly argv: string[];
  /** Only with `pipeStdout`. */
  readonly stdout: ReadableStream<Uint8Array> | null;
  /** Resolves when the process has exited and its streams are drained. */
  readonly done: Promise<ChildResult>;
  /** True until `done` resolves. */
  running(): boolean;
  /** Send the stop signal, then SIGKILL after the grace period; resolves when the process is gone. */
  stop(graceMs?: number): Promise<ChildResult>;
  /**
   * Let the process outlive imgb (-on-error=abort leaves a VM to inspect): stop reading its output
   * and stop waiting for it, so imgb can exit while it runs on. `done` then never resolves.
   */
  detach(): void;
}

const STDERR_TAIL_BYTES = 8192;

export function spawnChild(argv: string[], opts: ChildOptions = {}): Child {
  const stdin = opts.stdin === undefined ? "ignore" : "file" in opts.stdin ? Bun.file(opts.stdin.file) : opts.stdin;
  const wantStdout = opts.pipeStdout || opts.captureStdout || opts.onStdout;
  const proc = Bun.spawn({
    cmd: argv,
    stdin,
    stdout: wantStdout ? "pipe" : "ignore",
    stderr: "pipe",
    env: opts.env ? definedEnv(opts.env) : undefined,
    cwd: opts.cwd,
    ...(opts.processGroup ? { detached: true } : {}),
  });
  const kill = (sig: NodeJS.Signals) => {
    if (!opts.processGroup) return proc.kill(sig);
    try {
      process.kill(-proc.pid, sig);
    } catch {
      // The group is gone.
    }
  };
  let exited = false;
  let aborted = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const stopSignal = opts.stopSignal ?? "SIGTERM";

  const stop = (graceMs = opts.graceMs ?? 5000): Promise<ChildResult> => {
    if (!exited) {
      kill(stopSignal);
      if (stopSignal !== "SIGKILL" && killTimer === undefined) {
        killTimer = setTimeout(() => {
          if (!exited) kill("SIGKILL");
        }, graceMs);
      }
    }
    return done;
  };
  const onAbort = () => {
    aborted = true;
    void stop();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const stdoutChunks: Uint8Array[] = [];
  const readers: Array<{ cancel(): Promise<void> }> = [];
  const stdoutDrained =
    wantStdout && !opts.pipeStdout && proc.stdout instanceof ReadableStream
      ? drain(proc.stdout, readers, (c) => {
          if (opts.captureStdout) stdoutChunks.push(c);
          opts.onStdout?.(c);
        })
      : Promise.resolve();
  let tail: Uint8Array = new Uint8Array(0);
  const stderrDrained = drain(proc.stderr as ReadableStream<Uint8Array>, readers, (c) => {
    opts.onStderr?.(c);
    tail = keepTail(tail, c);
  });

  const done: Promise<ChildResult> = (async () => {
    await proc.exited;
    exited = true;
    if (killTimer) clearTimeout(killTimer);
    // Whatever of the group outlived its leader after an abort goes too.
    if (aborted && opts.processGroup) kill("SIGKILL");
    opts.signal?.removeEventListener("abort", onAbort);
    await Promise.all([stdoutDrained, stderrDrained]);
    return {
      exitCode: proc.exitCode,
      signalCode: proc.signalCode === null ? null : String(proc.signalCode),
      stdout: concat(stdoutChunks),
      stderrTail: new TextDecoder().decode(tail),
      aborted,
    };
  })();
  // Only now: stop() returns `done`, which an already aborted signal needs at once.
  if (opts.signal?.aborted) onAbort();

  return {
    pid: proc.pid,
    argv,
    stdout: opts.pipeStdout ? (proc.stdout as ReadableStream<Uint8Array>) : null,
    done,
    running: () => !exited,
    stop,
    detach() {
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      for (const r of readers) void r.cancel().catch(() => undefined);
      proc.unref();
    },
  };
}

/** A command failed: names the program, its exit status and the end of its stderr. */
export class ProcessError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: ChildResult,
  ) {
    const status = result.aborted
      ? "was cancelled"
      : result.exitCode !== null
        ? `exited with status ${result.exitCode}`
        : `was killed by ${result.signalCode}`;
    const tail = result.stderrTail.trim();
    super(`${argv[0]} ${status}${tail ? `: ${lastLines(tail, 6)}` : ""}`);
    this.name = "ProcessError";
  }
}

/** Run to completion; throws ProcessError unless the exit status is 0. */
export async function run(argv: string[], opts: ChildOptions = {}): Promise<ChildResult> {
  const result = await spawnChild(argv, opts).done;
  if (result.exitCode !== 0) throw new ProcessError(argv, result);
  return result;
}

/** Run and return trimmed stdout text. */
export async function runText(argv: string[], opts: ChildOptions = {}): Promise<string> {
  const result = await run(argv, { ...opts, captureStdout: true });
  return new TextDecoder().decode(result.stdout).trim();
}

async function drain(stream: ReadableStream<Uint8Array>, readers: Array<{ cancel(): Promise<void> }>, onChunk: (c: Uint8Array) => void): Promise<void> {
  const reader = stream.getReader();
  readers.push(reader);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}

function keepTail(tail: Uint8Array, chunk: Uint8Array): Uint8Array {
  const joined = concat([tail, chunk]);
  return joined.length > STDERR_TAIL_BYTES ? joined.slice(joined.length - STDERR_TAIL_BYTES) : joined;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function lastLines(text: string, n: number): string {
  return text.split("\n").slice(-n).join("\n");
}

function definedEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
