// One plugin instance's runtime: a sandbox process (respawned if it died), calls serialised, a host
// context built per call, abort handling, and the wording of every failure ("plugin NAME: ...").
import { boundedText } from "../ui/sanitize.ts";
import type { JsonValue } from "../values/json.ts";
import { PluginError } from "./types.ts";
import type { PluginLimits } from "./limits.ts";
import { SandboxCallError, SandboxProcess } from "./sandbox/parent.ts";
import { TokenBucket, type CallPhase, type HostCallContext } from "./host/context.ts";
import { handleHostCall } from "./host/gate.ts";
import { TempFiles } from "./host/temp-files.ts";

/**
 * A failed plugin call. `message` reads "plugin NAME: detail". `origin` says who worded `detail`:
 * "plugin" = the plugin's own error (error_set), e.g. shell-local's Packer-exact
 * "Script exited with non-zero exit status: 3.Allowed exit codes are: [0]", which the engine may
 * print alone where Packer prints it; "host" = a refusal, limit, trap or malformed answer.
 */
export class PluginCallError extends PluginError {
  constructor(
    plugin: string,
    readonly detail: string,
    readonly origin: "plugin" | "host",
  ) {
    super(plugin, detail);
    this.name = "PluginCallError";
    this.message = `plugin ${plugin}: ${detail}`;
  }
}

export function pluginFailure(plugin: string, message: string, origin: "plugin" | "host" = "host"): PluginCallError {
  // Every failure of a plugin call passes here: the text (the plugin's words, or a refusal quoting
  // them) is bounded as the terminal shows it.
  return new PluginCallError(plugin, boundedText(message), origin);
}

export type CallEnv = Omit<
  HostCallContext,
  "plugin" | "phase" | "granted" | "limits" | "signal" | "ui_bucket" | "refusal" | "lastError" | "pluginError" | "progress" | "progressIds" | "temp"
>;

function abortText(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return typeof r === "string" ? r : "cancelled";
}

export class PluginRuntime {
  private sandbox: SandboxProcess | null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Every sandbox this runtime started, so close() can wait for all of them. */
  private readonly started = new Set<SandboxProcess>();
  /** Folders the user granted for reading with -allow-path (set by the catalog). */
  allowedPaths: readonly string[] = [];
  /** Aborts the running call's host work (local commands, transfers) when the instance closes. */
  private currentCall: AbortController | null = null;

  constructor(
    readonly plugin: string,
    private readonly wasm: Uint8Array,
    private readonly limits: PluginLimits,
    readonly granted: ReadonlySet<string>,
    sandbox: SandboxProcess | null = null,
  ) {
    this.sandbox = sandbox;
    if (sandbox) this.started.add(sandbox);
  }

  /** Pids of live sandbox processes (for tests and diagnostics). */
  get pids(): number[] {
    return [...this.started].filter((s) => s.alive).map((s) => s.pid);
  }

  private async ensureSandbox(): Promise<SandboxProcess> {
    if (this.closed) throw pluginFailure(this.plugin, "the plugin instance is closed");
    if (this.sandbox?.alive) return this.sandbox;
    try {
      this.sandbox = await SandboxProcess.start(this.plugin, this.wasm, this.limits);
    } catch (e) {
      throw this.word(e, null);
    }
    this.started.add(this.sandbox);
    return this.sandbox;
  }

  /** Calls an export with a JSON input and returns its output text. Calls run one at a time. */
  call(fn: string, input: JsonValue, phase: CallPhase, env: CallEnv, signal: AbortSignal): Promise<string> {
    const run = this.queue.then(() => this.callNow(fn, input, phase, env, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async callNow(fn: string, input: JsonValue, phase: CallPhase, env: CallEnv, signal: AbortSignal): Promise<string> {
    if (signal.aborted) throw pluginFailure(this.plugin, abortText(signal));
    const sandbox = await this.ensureSandbox();
    const temp = new TempFiles();
    // Host work of this call stops on the caller's abort and on close().
    const callAbort = new AbortController();
    const forward = () => callAbort.abort(signal.reason);
    signal.addEventListener("abort", forward, { once: true });
    this.currentCall = callAbort;
    const ctx: HostCallContext = {
      ...env,
      allowedPaths: this.allowedPaths,
      plugin: this.plugin,
      phase,
      granted: phase === "run" ? this.granted : new Set(),
      limits: this.limits,
      signal: callAbort.signal,
      temp,
      atCallEnd: [],
      ui_bucket: new TokenBucket(this.limits.uiBurst, this.limits.uiPerSecond),
      refusal: null,
      lastError: null,
      pluginError: null,
      progress: new Map(),
      progressIds: 0,
    };
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      // Host calls in flight see the same signal (local commands are killed); the plugin gets a
      // moment to report its own error, then the sandbox is killed.
      graceTimer = setTimeout(() => sandbox.kill(pluginFailure(this.plugin, abortText(signal))), this.limits.abortGraceMs);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const output = await sandbox.call(fn, JSON.stringify(input), (f, p) => handleHostCall(ctx, f, p));
      if (ctx.refusal) throw pluginFailure(this.plugin, ctx.refusal);
      if (signal.aborted) throw pluginFailure(this.plugin, abortText(signal));
      return output;
    } catch (e) {
      throw this.word(e, ctx);
    } finally {
      signal.removeEventListener("abort", onAbort);
      signal.removeEventListener("abort", forward);
      if (this.currentCall === callAbort) this.currentCall = null;
      if (graceTimer) clearTimeout(graceTimer);
      for (const t of ctx.progress.values()) t.finish();
      await Promise.all((ctx.atCallEnd ?? []).map((f) => f().catch(() => {})));
      await temp.removeAll();
    }
  }

  /** Chooses the message a user sees for a failed call. */
  private word(e: unknown, ctx: HostCallContext | null): Error {
    if (ctx?.refusal) return pluginFailure(this.plugin, ctx.refusal);
    if (e instanceof SandboxCallError) {
      if (e.kind === "status" && ctx?.pluginError) return pluginFailure(this.plugin, ctx.pluginError, "plugin");
      if (e.kind === "trap") {
        if (ctx?.pluginError) return pluginFailure(this.plugin, ctx.pluginError, "plugin");
        if (ctx?.lastError) return pluginFailure(this.plugin, ctx.lastError);
        return pluginFailure(this.plugin, `trapped: ${e.detail}`);
      }
      return pluginFailure(this.plugin, e.detail, e.kind === "plugin" ? "plugin" : "host");
    }
    if (e instanceof PluginError) return e;
    return pluginFailure(this.plugin, e instanceof Error ? e.message : String(e));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.currentCall?.abort(new Error("the plugin instance was closed"));
    const all = [...this.started];
    for (const s of all) s.kill();
    await Promise.all(all.map((s) => s.exited));
  }
}
