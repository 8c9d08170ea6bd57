// The parent side of a sandbox: one child process per plugin instance, running one module.
// Plugin CPU time is accounted from the IPC message flow: the plugin is "running" from the moment a
// call (or a host-call reply) is sent until the next host-call request or the result arrives. Time
// the parent spends serving host calls is not charged. When that running time reaches the limit, the
// child's real CPU time for the call (/proc/PID/stat) is checked too, so a busy machine that delays
// the child does not count against the plugin. At the limit the child gets SIGKILL.
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { PluginError } from "../types.ts";
import { WASM_PAGE, type PluginLimits } from "../limits.ts";
import { sandboxCommand } from "./command.ts";
import { checkLoadBounds } from "./load-bounds.ts";
import { ChildMessageSchema, type ChildMessage, type ParentMessage } from "./protocol.ts";
import { CHARGED_FUNCTIONS } from "../host/table.ts";
import { boundedText } from "../../ui/sanitize.ts";

/** Serves one host-function call of the plugin; returns the JSON reply. Never throws. */
export type HostCallHandler = (fn: string, payload: string) => Promise<string>;

/** How a call ended with an error, for the instance to word the message. */
export class SandboxCallError extends PluginError {
  constructor(
    plugin: string,
    /** The message without the plugin's name. */
    readonly detail: string,
    readonly kind: "plugin" | "trap" | "limit" | "status" | "killed" | "crashed",
  ) {
    super(plugin, detail);
    this.name = "SandboxCallError";
  }
}

interface Operation {
  id: number;
  resolve: (output: string) => void;
  reject: (e: Error) => void;
  handler: HostCallHandler | null;
  usedMs: number;
  sliceStart: number | null;
  timer: ReturnType<typeof setTimeout> | null;
  /** The child's CPU time (ms) when the call began; null where /proc is not available. */
  cpuStart: number | null;
  hostCalls: number;
  /** The budget of this operation: the CPU limit per call, or the load-time limit. */
  limit: { ms: number; what: string };
}


/** User + system CPU time of a process in ms (Linux: clock ticks of 10 ms), or null. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

const STDERR_TAIL = 4096;

export class SandboxProcess {
  private op: Operation | null = null;
  private nextId = 1;
  private dead = false;
  private deathReason: Error | null = null;
  private stderrTail = "";
  private readonly proc: ReturnType<typeof Bun.spawn>;
  /** Resolves when the child has been reaped. */
  readonly exited: Promise<number | null>;
  /** Imports of the loaded module ("module.name") and its exported functions. */
  imports: string[] = [];
  exports: string[] = [];

  private constructor(
    readonly plugin: string,
    private readonly limits: PluginLimits,
  ) {
    this.proc = Bun.spawn(sandboxCommand(), {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      serialization: "json",
      ipc: (message) => this.onMessage(message),
    });
    void this.collectStderr();
    this.exited = this.proc.exited.then((code) => {
      this.onExit(code);
      return code;
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Spawns a sandbox and loads the module into it (the load counts against the CPU limit). */
  static async start(plugin: string, wasm: Uint8Array, limits: PluginLimits): Promise<SandboxProcess> {
    // Size bounds first, on the bytes: a module over them never gets a process.
    try {
      checkLoadBounds(wasm, limits);
    } catch (e) {
      throw new SandboxCallError(plugin, (e as Error).message, "limit");
    }
    const sb = new SandboxProcess(plugin, limits);
    try {
      await sb.run(
        () => ({
          t: "load",
          plugin,
          wasmBase64: Buffer.from(wasm).toString("base64"),
          memoryMaxPages: Math.floor(limits.memoryBytes / WASM_PAGE),
          messageLimit: limits.messageBytes,
        }),
        null,
        { ms: limits.loadMs, what: "load time" },
      );
    } catch (e) {
      sb.kill();
      await sb.exited;
      throw e;
    }
    return sb;
  }

  /**
   * Calls an export; host calls made meanwhile go to `handler`. One call at a time per sandbox.
   * `describe` runs under the short load-time limit, like the load: every command may pay for it.
   */
  call(fn: string, input: string, handler: HostCallHandler): Promise<string> {
    const budget = fn === "describe" ? { ms: this.limits.loadMs, what: "load time" } : undefined;
    return this.run((id) => ({ t: "call", id, fn, input }), handler, budget);
  }

  private run(make: (id: number) => ParentMessage, handler: HostCallHandler | null, budget?: { ms: number; what: string }): Promise<string> {
    if (this.dead) return Promise.reject(this.deathReason ?? new SandboxCallError(this.plugin, "the sandbox process is gone", "crashed"));
    if (this.op) return Promise.reject(new SandboxCallError(this.plugin, "a call is already running in this sandbox", "crashed"));
    return new Promise<string>((resolve, reject) => {
      const id = this.nextId++;
      const limit = budget ?? { ms: this.limits.cpuMsPerCall, what: "CPU time" };
      this.op = { id, resolve, reject, handler, usedMs: 0, sliceStart: null, timer: null, cpuStart: processCpuMs(this.proc.pid), limit, hostCalls: 0 };
      this.send(make(id));
      this.startSlice();
    });
  }

  private send(msg: ParentMessage): void {
    try {
      this.proc.send(msg);
    } catch (e) {
      this.kill(new SandboxCallError(this.plugin, `the sandbox process is gone: ${(e as Error).message}`, "crashed"));
    }
  }

  private startSlice(): void {
    const op = this.op;
    if (!op || this.dead) return;
    op.sliceStart = performance.now();
    const remaining = Math.max(0, op.limit.ms - op.usedMs);
    op.timer = setTimeout(() => this.onRunningBudgetSpent(op), remaining);
  }

  private onRunningBudgetSpent(op: Operation): void {
    if (this.op !== op || this.dead) return;
    const limit = op.limit.ms;
    const now = processCpuMs(this.proc.pid);
    if (now !== null && op.cpuStart !== null) {
      const cpu = now - op.cpuStart;
      // Clock ticks are 10 ms: allow one tick of rounding before concluding the limit is reached.
      if (cpu + 10 < limit) {
        op.timer = setTimeout(() => this.onRunningBudgetSpent(op), Math.max(10, limit - cpu));
        return;
      }
    }
    this.kill(new SandboxCallError(this.plugin, `exceeded its ${op.limit.what} limit of ${limit} ms`, "limit"));
  }

  private endSlice(): void {
    const op = this.op;
    if (!op || op.sliceStart === null) return;
    op.usedMs += performance.now() - op.sliceStart;
    op.sliceStart = null;
    if (op.timer) clearTimeout(op.timer);
    op.timer = null;
  }

  private onMessage(raw: unknown): void {
    const parsed = v.safeParse(ChildMessageSchema, raw);
    if (!parsed.success) {
      this.kill(new SandboxCallError(this.plugin, "the sandbox sent a malformed message", "crashed"));
      return;
    }
    const msg: ChildMessage = parsed.output;
    const op = this.op;
    if (!op) return;
    switch (msg.t) {
      case "loaded":
        this.endSlice();
        this.imports = msg.imports;
        this.exports = msg.exports;
        this.finish(op, null, "");
        return;
      case "load_error":
        this.endSlice();
        this.finish(op, new SandboxCallError(this.plugin, boundedText(msg.message), "limit"), "");
        return;
      case "host":
        if (++op.hostCalls > this.limits.hostCallsPerCall) {
          this.kill(new SandboxCallError(this.plugin, `made more than ${this.limits.hostCallsPerCall} host calls in one call (the limit)`, "limit"));
          return;
        }
        // Quick host work done on the plugin's behalf (UI lines, template rendering; `charged` in the
        // table) counts as its CPU time, so it cannot escape its limit by looping on it. Slow host
        // work (commands, transfers, sleep) is bounded by the engine's timeout and abort instead.
        if (!CHARGED_FUNCTIONS.has(msg.fn)) this.endSlice();
        void this.serveHostCall(op, msg.id, msg.fn, msg.payload);
        return;
      case "result":
        if (msg.id !== op.id) return;
        this.endSlice();
        if (msg.ok) this.finish(op, null, msg.output);
        else this.finish(op, new SandboxCallError(this.plugin, boundedText(msg.error), msg.kind), "");
        return;
    }
  }

  private async serveHostCall(op: Operation, id: number, fn: string, payload: string): Promise<void> {
    const reply = op.handler ? await op.handler(fn, payload) : JSON.stringify({ error: `host function ${fn} is not available while loading` });
    if (this.dead || this.op !== op) return;
    this.send({ t: "reply", id, payload: reply });
    if (op.sliceStart === null) this.startSlice();
  }

  private finish(op: Operation, err: Error | null, output: string): void {
    if (this.op !== op) return;
    this.op = null;
    if (op.timer) clearTimeout(op.timer);
    if (err) op.reject(err);
    else op.resolve(output);
  }

  /** SIGKILL the child; a running call is rejected with `reason`. */
  kill(reason?: Error): void {
    if (!this.dead) {
      this.dead = true;
      this.deathReason = reason ?? new SandboxCallError(this.plugin, "the sandbox was closed", "killed");
      try {
        this.proc.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    const op = this.op;
    if (op) this.finish(op, this.deathReason ?? reason ?? new Error("killed"), "");
  }

  private onExit(code: number | null): void {
    if (!this.dead) {
      this.dead = true;
      const sig = this.proc.signalCode ? `signal ${this.proc.signalCode}` : `exit status ${code}`;
      const tail = this.stderrTail.trim();
      this.deathReason = new SandboxCallError(
        this.plugin,
        `the sandbox process ended unexpectedly (${sig})${tail ? `: ${tail.split("\n").slice(-3).join(" | ")}` : ""}`,
        "crashed",
      );
    }
    const op = this.op;
    if (op) this.finish(op, this.deathReason!, "");
  }

  private async collectStderr(): Promise<void> {
    const stream = this.proc.stderr;
    if (!stream || typeof stream === "number") return;
    const decoder = new TextDecoder();
    for await (const chunk of stream as ReadableStream<Uint8Array>) {
      this.stderrTail = (this.stderrTail + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
    }
  }
}
