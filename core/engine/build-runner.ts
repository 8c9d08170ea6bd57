// Runs one build: the builder's steps (with the provisioning hook and -on-error handling), then
// the post-processor chains on the builder's artifact.
import type { Artifact } from "./artifact.ts";
import type { Builder, BuildState, OnErrorMode, Step } from "../builders/types.ts";
import type { BuildContextValues, BuildSpec, TemplateFormat } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import type { Communicator } from "../communicator/types.ts";
import type { JsonObject, JsonValue } from "../values/json.ts";
import { resolveBuilderFactory } from "../builders/registry.ts";
import { throwIfErrors } from "../errors/diagnostic.ts";
import { Cancelled } from "../errors/cancelled.ts";
import { runSteps, StepFailed } from "./multistep.ts";
import { ProvisioningFailed, runProvisioners } from "./provision.ts";
import { runPostProcessorChains } from "./postprocess.ts";
import type { ComponentPipeline } from "./components.ts";
import { describeError } from "./errors.ts";
import { stdinIsTty } from "../ui/terminal.ts";

export interface BuildRunOptions {
  spec: BuildSpec;
  templateDir: string;
  format: TemplateFormat;
  /** The pipeline the build's validation prepared its components in. */
  components: ComponentPipeline;
  ui: Ui;
  uiFor(type: string): Ui;
  signal: AbortSignal;
  onError: OnErrorMode;
  force: boolean;
  /** The template's variables (for `{{user}}` in late plugin keys). */
  variables: Record<string, JsonValue>;
}

export type BuildOutcome =
  | { status: "ok"; artifacts: Artifact[]; errors: string[] }
  | { status: "error"; error: string; artifacts: Artifact[] }
  | { status: "cancelled" };

export function buildContext(spec: BuildSpec, placeholders: boolean, extra: Partial<BuildContextValues> = {}): BuildContextValues {
  return {
    buildName: spec.name,
    sourceName: spec.sourceName,
    builderType: spec.builderType,
    generated: {},
    placeholders,
    ...extra,
  };
}

export async function runBuild(opts: BuildRunOptions): Promise<BuildOutcome> {
  const { spec } = opts;
  const build = buildContext(spec, false, { force: opts.force, onError: opts.onError, userVariables: opts.variables });
  let steps: Step[];
  let builder;
  let factory;
  try {
    factory = await resolveBuilderFactory(spec.builderType);
  } catch (err) {
    return { status: "error", error: describeError(err), artifacts: [] };
  }
  if (!factory) return { status: "error", error: `Unknown builder ${spec.builderType}`, artifacts: [] };
  try {
    const decoded = spec.builder.decode(build, factory.schema);
    throwIfErrors(decoded.diagnostics);
    const created = factory.create(withCommonKeys(decoded.value, build), build);
    throwIfErrors(created.diagnostics);
    if (!created.builder) throw new Error(`builder ${spec.builderType} could not be configured`);
    builder = created.builder;
    steps = builder.steps();
  } catch (err) {
    await factory.release?.();
    return { status: "error", error: describeError(err), artifacts: [] };
  }

  try {
    return await runSteppedBuild(opts, build, builder, steps);
  } finally {
    await opts.components.pool.closeScope(build.buildName);
    await builder.close?.();
    await factory.release?.();
  }
}

async function runSteppedBuild(
  opts: BuildRunOptions,
  build: BuildContextValues,
  builder: Builder,
  steps: Step[],
): Promise<BuildOutcome> {
  const { spec, ui, signal } = opts;
  const components = opts.components;
  const state: BuildState = {
    ui,
    signal,
    build,
    templateDir: opts.templateDir,
    scratch: {},
    setGenerated(key, value) {
      build.generated[key] = value;
    },
    provision: (comm: Communicator) =>
      runProvisioners(spec.provisioners, comm, { components, ui, build, templateDir: opts.templateDir, signal }),
  };
  const cleanup = spec.errorCleanupProvisioner;
  if (cleanup) state.provisionCleanup = (comm: Communicator) => runProvisioners([cleanup], comm, { components, ui, build, templateDir: opts.templateDir, signal });

  try {
    await runSteps(steps, state, { onStepError: (step, err) => decideOnError(step, err, state, opts) });
  } catch (err) {
    if (err instanceof Cancelled || signal.aborted) return { status: "cancelled" };
    const cause = err instanceof StepFailed ? err.cause : err;
    return { status: "error", error: describeError(cause), artifacts: [] };
  }
  if (signal.aborted) return { status: "cancelled" };

  const artifact = builder.artifact(state);
  if (!artifact) return { status: "ok", artifacts: [], errors: [] };
  const chains = await runPostProcessorChains(spec.postProcessors, artifact, {
    components,
    ui,
    uiFor: opts.uiFor,
    build,
    templateDir: opts.templateDir,
    signal,
    format: opts.format,
  });
  if (signal.aborted) return { status: "cancelled" };
  if (chains.errors.length) return { status: "error", error: chains.errors.join("\n"), artifacts: chains.artifacts };
  return { status: "ok", artifacts: chains.artifacts, errors: [] };
}

async function decideOnError(
  step: Step,
  err: unknown,
  state: BuildState,
  opts: BuildRunOptions,
): Promise<"cleanup" | "abort" | "retry"> {
  const { ui } = state;
  let mode: OnErrorMode = opts.onError;
  if (mode === "ask") {
    if (!stdinIsTty()) {
      mode = "cleanup";
    } else {
      ui.error(`Step "${step.name}" failed`);
      ui.error(describeError(err));
      for (;;) {
        const answer = (
          await ui.ask("[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)? ")
        )
          .trim()
          .toLowerCase();
        if (answer === "r") return "retry";
        if (answer === "a") {
          mode = "abort";
          break;
        }
        if (answer === "c") {
          mode = "cleanup";
          break;
        }
      }
    }
  }
  switch (mode) {
    case "abort":
      ui.error(describeError(err));
      ui.error(`Step "${step.name}" failed, aborting...`);
      return "abort";
    case "run-cleanup-provisioner":
      await runCleanupProvisioner(err, state, opts);
      ui.error(`Step "${step.name}" failed, aborting...`);
      return "abort";
    default:
      await runCleanupProvisioner(err, state, opts);
      return "cleanup";
  }
}

async function runCleanupProvisioner(err: unknown, state: BuildState, opts: BuildRunOptions): Promise<void> {
  if (!(err instanceof ProvisioningFailed) || state.signal.aborted) return;
  state.ui.say("Provisioning step had errors: Running the cleanup provisioner, if present...");
  const cleanup = opts.spec.errorCleanupProvisioner;
  if (!cleanup) return;
  try {
    await runProvisioners([cleanup], err.communicator, {
      components: opts.components,
      ui: state.ui,
      build: state.build,
      templateDir: opts.templateDir,
      signal: state.signal,
    });
  } catch (cleanupErr) {
    // The build's error stays the provisioner's; the cleanup provisioner's failure is only reported.
    state.ui.error(`Error cleanup provisioner failed: ${describeError(cleanupErr)}`);
  }
}

/** Packer injects these into every builder's config; builders read -force as packer_force. */
export function withCommonKeys(config: JsonObject, build: BuildContextValues): JsonObject {
  return {
    ...config,
    packer_force: build.force ?? false,
    packer_on_error: build.onError ?? "cleanup",
    packer_build_name: build.sourceName,
    packer_builder_type: build.builderType,
  };
}
