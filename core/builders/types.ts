// Builders are native code in the core (only provisioners and post-processors are plugins).
// A builder is a list of steps in Packer's multistep style: each step runs, and the cleanups of
// the steps that ran are called in reverse order on success, error and cancellation alike.
import type { Diagnostic } from "../errors/diagnostic.ts";
import type { JsonObject, JsonValue } from "../values/json.ts";
import type { Artifact } from "../engine/artifact.ts";
import type { Communicator } from "../communicator/types.ts";
import type { BuildContextValues } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import type { ConfigSchema } from "../config/schema.ts";

export type OnErrorMode = "cleanup" | "abort" | "ask" | "run-cleanup-provisioner";

/** The typed context a build carries through its steps (Packer's state bag, typed). */
export interface BuildState {
  ui: Ui;
  signal: AbortSignal;
  build: BuildContextValues;
  templateDir: string;
  /** Set by the connect step. */
  communicator?: Communicator;
  /** Publish a `build.*` value (Host, Port, ID, ...), visible to provisioners and post-processors. */
  setGenerated(key: string, value: JsonValue): void;
  /** The provisioning hook: runs the build's provisioners on the communicator; throws when they fail. */
  provision(communicator: Communicator): Promise<void>;
  /** The error-cleanup-provisioner, when the template has one (a plugin builder's cleanup hook calls it). */
  provisionCleanup?(communicator: Communicator): Promise<void>;
  /** Per-builder scratch values (typed by each builder through its own state interface). */
  scratch: Record<string, unknown>;
}

export interface Step {
  /** Packer-style name, shown on -on-error=abort: "StepConnect", "StepProvision". */
  name: string;
  /** Throw to halt the build. */
  run(state: BuildState): Promise<void>;
  cleanup?(state: BuildState): Promise<void>;
  /**
   * Called instead of cleanup under -on-error=abort: let go of what stays so imgb can exit, and say
   * what it is and how to remove it (a VM's pid and port, a container, a folder); undefined = nothing.
   */
  abandon?(state: BuildState): string | undefined;
}

export interface Builder {
  steps(): Step[];
  /** Called after every step succeeded. null = no artifact. */
  artifact(state: BuildState): Artifact | null;
  /** Release what outlives the steps (a plugin process serving the artifact); called when the build ends. */
  close?(): Promise<void>;
}

export interface BuilderFactory {
  type: string;
  schema: ConfigSchema;
  /** Keys this builder publishes as `build.*` (placeholders during validate). */
  generatedKeys: string[];
  /** Validate the decoded config; no side effects. */
  create(config: JsonObject, build: BuildContextValues): { builder?: Builder; diagnostics: Diagnostic[] };
  /**
   * Validation that needs more than create (a Packer plugin's Prepare over RPC); when present,
   * `validate` uses it instead of create, and the keys it returns become `build.*` placeholders.
   */
  validate?(config: JsonObject, build: BuildContextValues): Promise<{ diagnostics: Diagnostic[]; generatedKeys: string[] }>;
  /** Release what the factory holds (a plugin process started for its schema); called when validate or the build is done. */
  release?(): Promise<void>;
}
