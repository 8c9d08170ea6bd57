// How the engine sees a plugin, whatever runs it. The sandbox (WASM in a killable child process)
// implements these; the engine only prepares, provisions and post-processes.
import type { Diagnostic } from "../errors/diagnostic.ts";
import type { JsonObject } from "../values/json.ts";
import type { Artifact } from "../engine/artifact.ts";
import type { Communicator } from "../communicator/types.ts";
import type { BuildContextValues } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import type { ConfigSchema } from "../config/schema.ts";

export const ABI_VERSION = "imgb-plugin/1";
export type PluginKind = "provisioner" | "post-processor";

export interface PluginDescription {
  kind: PluginKind;
  /** The component type used in templates: "shell", "shell-local", "compress", "acme/hello". */
  name: string;
  abi: typeof ABI_VERSION;
  version: string;
  schema: ConfigSchema;
  /** Capability names the plugin declared (docs/plugin-abi.md lists them). */
  capabilities: string[];
}

export interface PrepareResult {
  config: JsonObject;
  diagnostics: Diagnostic[];
}

/** Everything a running provisioner may reach; the host functions are built from this and nothing else. */
export interface ProvisionContext {
  ui: Ui;
  communicator: Communicator;
  build: BuildContextValues;
  templateDir: string;
  /** Aborted on the provisioner's `timeout` and on Ctrl-C. */
  signal: AbortSignal;
  /** The config Prepare answered for this component (the engine prepares many with one instance); default: the last one. */
  config?: JsonObject;
}

export interface Provisioner {
  readonly description: PluginDescription;
  /** Packer's Prepare: configs merged in order (later wins); no side effects. */
  prepare(configs: JsonObject[]): Promise<PrepareResult>;
  provision(ctx: ProvisionContext): Promise<void>;
  close(): Promise<void>;
}

export interface PostProcessContext {
  ui: Ui;
  build: BuildContextValues;
  templateDir: string;
  signal: AbortSignal;
  /** Folder the post-processor may write into (artifact_write); default: the working directory. */
  outputDir?: string;
  /** The config Configure answered for this component; default: the last one. */
  config?: JsonObject;
}

export interface PostProcessResult {
  artifact: Artifact;
  keep: boolean;
  forceOverride: boolean;
}

export interface PostProcessor {
  readonly description: PluginDescription;
  configure(configs: JsonObject[]): Promise<PrepareResult>;
  postProcess(ctx: PostProcessContext, input: Artifact): Promise<PostProcessResult>;
  close(): Promise<void>;
}

/** A plugin failed: names the plugin so every message says which one. */
export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
  ) {
    super(`${plugin}: ${message}`);
    this.name = "PluginError";
  }
}

/** Finds embedded and installed plugins by type and makes instances of them (loading is core/plugin/loader.ts's). */
export interface PluginCatalog {
  has(kind: PluginKind, type: string): boolean;
  describe(kind: PluginKind, type: string): Promise<PluginDescription>;
  provisioner(type: string): Promise<Provisioner>;
  postProcessor(type: string): Promise<PostProcessor>;
  /** Kill every sandbox process still running. */
  closeAll(): Promise<void>;
}
