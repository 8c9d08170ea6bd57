// Post-processor chains, with Packer's keep rules: each chain starts from the builder's artifact;
// an intermediate artifact survives when the next post-processor keeps its input (the user's
// keep_input_artifact wins unless the plugin forces keeping); the builder's own artifact survives
// when there are no chains or any first step of a chain keeps it.
import type { Artifact } from "./artifact.ts";
import type { BuildContextValues, PostProcessorSpec, TemplateFormat } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import { DiagnosticsError, hasErrors } from "../errors/diagnostic.ts";
import { Cancelled } from "../errors/cancelled.ts";
import type { ComponentPipeline } from "./components.ts";
import { describeError } from "./errors.ts";

export interface PostProcessEnv {
  components: ComponentPipeline;
  /** The build's Ui. */
  ui: Ui;
  /** A Ui prefixed `BUILD (TYPE):` for the post-processor's own output. */
  uiFor(type: string): Ui;
  build: BuildContextValues;
  templateDir: string;
  signal: AbortSignal;
  format: TemplateFormat;
}

export interface ChainsResult {
  artifacts: Artifact[];
  errors: string[];
}

export async function runPostProcessorChains(
  chains: PostProcessorSpec[][],
  builderArtifact: Artifact,
  env: PostProcessEnv,
): Promise<ChainsResult> {
  const artifacts: Artifact[] = [];
  const errors: string[] = [];
  let keepOriginal = chains.length === 0;

  for (const chain of chains) {
    let prior: Artifact | undefined = builderArtifact;
    for (const [i, spec] of chain.entries()) {
      if (env.signal.aborted) return { artifacts, errors: [...errors, new Cancelled().message] };
      env.ui.say(
        env.format === "hcl2"
          ? `Running post-processor: ${spec.name ?? ""} (type ${spec.type})`
          : `Running post-processor: ${spec.type}`,
      );
      let result;
      const scope = env.build.buildName;
      try {
        // Configured again with the build's live values unless validation configured it with the same.
        const configured = await env.components.prepare("post-processor", spec, env.build, scope);
        if (hasErrors(configured.diagnostics) || !configured.config) throw new DiagnosticsError(configured.diagnostics);
        try {
          result = await configured.plugin.postProcess(
            { ui: env.uiFor(spec.type), build: configured.build, templateDir: env.templateDir, signal: env.signal, config: configured.config },
            prior,
          );
        } catch (err) {
          // A failed or killed sandbox is not reused: its state is unknown.
          await env.components.pool.discard(scope, "post-processor", spec.type);
          throw err;
        }
      } catch (err) {
        errors.push(`Post-processor failed: ${describeError(err)}`);
        prior = undefined;
        break;
      }
      let keep = result.keep;
      if (spec.keepInputArtifact !== undefined) {
        // The user's choice wins, unless the plugin forces keeping to keep the chain intact.
        if (!(result.keep && spec.keepInputArtifact === false && result.forceOverride)) keep = spec.keepInputArtifact;
      }
      if (i === 0) {
        if (keep) keepOriginal = true;
      } else if (keep) {
        artifacts.push(prior);
      } else {
        await destroyQuietly(prior, env.ui, errors);
      }
      prior = result.artifact;
    }
    if (prior) artifacts.push(prior);
  }
  if (keepOriginal) artifacts.unshift(builderArtifact);
  else await destroyQuietly(builderArtifact, env.ui, errors);
  return { artifacts, errors };
}

async function destroyQuietly(artifact: Artifact, ui: Ui, errors: string[]): Promise<void> {
  try {
    await artifact.destroy();
  } catch (err) {
    errors.push(`Failed cleaning up prior artifact: ${describeError(err)}`);
    ui.error(`Failed cleaning up prior artifact: ${describeError(err)}`);
  }
}
