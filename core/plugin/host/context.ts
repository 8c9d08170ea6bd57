// What one export call of a plugin may reach through host functions. Built by the instance for each
// call from the engine's context and the plugin's grants, and nothing else.
import type { Communicator } from "../../communicator/types.ts";
import type { BuildContextValues } from "../../template/model.ts";
import type { Ui } from "../../ui/types.ts";
import type { PluginLimits } from "../limits.ts";
import type { TempFiles } from "./temp-files.ts";

/** describe and prepare/configure are pure; run is provision or post_process. */
export type CallPhase = "describe" | "prepare" | "run";

export interface HostCallContext {
  plugin: string;
  phase: CallPhase;
  /** Declared by the plugin AND granted. */
  granted: ReadonlySet<string>;
  limits: PluginLimits;
  signal: AbortSignal;
  ui?: Ui;
  communicator?: Communicator;
  build?: BuildContextValues;
  templateDir?: string;
  temp?: TempFiles;
  /** Undo work that must not outlive the call (adapters a plugin left open); run when it ends. */
  atCallEnd?: Array<() => Promise<void>>;
  /** Post-processors: files of the input artifact (readable) and the folder outputs go to (writable). */
  artifactFiles?: string[];
  outputDir?: string;
  /** Folders the user granted for reading with -allow-path (docs/plugin-abi.md §4). */
  allowedPaths?: readonly string[];
  /**
   * Files this call wrote through host functions (absolute path → whether the call created it).
   * A post-processor's new artifact may name only these and the input's files; clean-up removes
   * only the created ones.
   */
  written?: Map<string, boolean>;
  /**
   * Post-processors: the engine container_image works through (the input artifact's, else podman),
   * the input artifact's image if it is one, and the image names this call made (tag, import).
   */
  containers?: { engine: string[]; image?: string; named: string[] };
  ui_bucket: TokenBucket;
  /** First refusal or limit hit of this call: the call fails with it whatever the plugin does next. */
  refusal: string | null;
  /** Last error reply sent, to explain a trap that follows it. */
  lastError: string | null;
  /** What the plugin reported through plugin_error just before it stopped itself. */
  pluginError: string | null;
  progress: Map<number, { update(done: number): void; finish(): void }>;
  progressIds: number;
}

/** Refill-per-second rate limit on UI messages. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }
  /** Takes `n` tokens (one per line a UI message shows), or none when fewer are left. */
  take(n = 1): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

// The capability list lives in the host-function table; catalog.ts reads it from here.
