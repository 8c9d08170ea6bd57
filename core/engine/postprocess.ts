// Post-processor chains, with Packer's keep rules: each chain starts from the builder's artifact;
// an intermediate artifact survives when the next post-processor keeps its input (the user's
// keep_input_artifact wins unless the plugin forces keeping); the builder's own artifact survives
// when there are no chains or any first step of a chain keeps it.
import type { Artifact } from "./artifact.ts";
import type { PluginCatalog, PostProcessor } from "../plugin/types.ts";
import type { BuildContextValues, PostProcessorSpec, TemplateFormat } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import { throwIfErrors } from "../errors/diagnostic.ts";
import { errorMessage } from "./provision.ts";

export interface PostProcessEnv {
  catalog: PluginCatalog;
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

export async function configurePostProcessor(
  spec: PostProcessorSpec,
  catalog: PluginCatalog,
  build: BuildContextValues,
): Promise<PostProcessor> {
  const plugin = await catalog.postProcessor(spec.type);
  try {
    const decoded = spec.config.decode(build, plugin.description.schema);
    throwIfErrors(decoded.diagnostics);
    throwIfErrors((await plugin.configure([decoded.value])).diagnostics);
    return plugin;
  } catch (err) {
    await plugin.close();
    throw err;
  }
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
      if (env.signal.aborted) return { artifacts, errors: [...errors, "build was cancelled"] };
      env.ui.say(
        env.format === "hcl2"
          ? `Running post-processor: ${spec.name ?? ""} (type ${spec.type})`
          : `Running post-processor: ${spec.type}`,
      );
      let result;
      try {
        const plugin = await configurePostProcessor(spec, env.catalog, env.build);
        try {
          result = await plugin.postProcess(
            { ui: env.uiFor(spec.type), build: env.build, templateDir: env.templateDir, signal: env.signal },
            prior,
          );
        } finally {
          await plugin.close();
        }
      } catch (err) {
        errors.push(`Post-processor failed: ${errorMessage(err)}`);
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
    errors.push(`Failed cleaning up prior artifact: ${errorMessage(err)}`);
    ui.error(`Failed cleaning up prior artifact: ${errorMessage(err)}`);
  }
}
