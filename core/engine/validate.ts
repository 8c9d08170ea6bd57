// `imgb validate`: everything a build would check before touching a machine — the builder's config,
// every provisioner's and post-processor's config through its plugin's Prepare/Configure (which
// has no side effects), with `build.*` values as placeholders. All problems are reported together.
import { unknownComponentDetail } from "../registry/packer-plugins.ts";
import type { Diagnostic } from "../errors/diagnostic.ts";
import { DiagnosticsError, errorDiag } from "../errors/diagnostic.ts";
import type { PluginCatalog, PluginKind } from "../plugin/types.ts";
import type { BuildSpec, PostProcessorSpec, ProvisionerSpec, Template } from "../template/model.ts";
import type { JsonValue } from "../values/json.ts";
import { resolveBuilderFactory } from "../builders/registry.ts";
import { buildContext, withCommonKeys } from "./build-runner.ts";
import { ComponentPipeline, VALIDATION } from "./components.ts";
import { describeError } from "./errors.ts";
import { selectBuilds, type BuildFilter } from "./plan.ts";
import { notProvidedReason } from "../plugin/not-provided.ts";

export interface ValidationResult {
  /** Every diagnostic, template warnings first. */
  diagnostics: Diagnostic[];
  /** Builds with at least one error, by name: `build` reports them and runs the others (as Packer). */
  invalidBuilds: Set<string>;
}

/**
 * `components` is the build's pipeline when a build follows: what validation prepared, the build
 * uses without preparing again. Without one, validation's instances are closed when it ends.
 */
export async function validateTemplate(
  template: Template,
  catalog: PluginCatalog,
  filter: BuildFilter,
  components?: ComponentPipeline,
): Promise<ValidationResult> {
  const diags: Diagnostic[] = [...template.warnings];
  const invalidBuilds = new Set<string>();
  // Prepare is pure, so one sandbox per plugin type serves every component of that type.
  const pipeline = components ?? new ComponentPipeline(catalog);
  try {
    // Builds are checked together (a Packer plugin builder's Prepare runs in its own process, as
    // Packer starts one per build); their diagnostics are reported in template order.
    const specs = selectBuilds(template, filter);
    const results = await Promise.all(specs.map((spec) => validateBuild(spec, catalog, pipeline, template.variables)));
    specs.forEach((spec, i) => {
      const found = results[i]!;
      if (found.some((d) => d.severity === "error")) invalidBuilds.add(spec.name);
      diags.push(...found);
    });
  } finally {
    if (!components) await pipeline.closeAll();
  }
  return { diagnostics: diags, invalidBuilds };
}

async function validateBuild(
  spec: BuildSpec,
  catalog: PluginCatalog,
  pipeline: ComponentPipeline,
  variables: Record<string, JsonValue>,
): Promise<Diagnostic[]> {
  const diags: Diagnostic[] = [];
  const ctx = buildContext(spec, true, { userVariables: variables });
  let factory;
  try {
    factory = await resolveBuilderFactory(spec.builderType);
  } catch (err) {
    diags.push(errorDiag(describeError(err), spec.builder.range ?? spec.range, `in build "${spec.name}"`));
    return diags;
  }
  if (!factory) {
    diags.push(errorDiag(`Unknown builder ${spec.builderType}`, spec.builder.range ?? spec.range, `in build "${spec.name}": ${unknownComponentDetail("builder", spec.builderType)}`));
  } else try {
    for (const key of factory.generatedKeys) ctx.generated[key] = `{{ .${key} }}`;
    const decoded = spec.builder.decode(ctx, factory.schema);
    diags.push(...decoded.diagnostics);
    if (!decoded.diagnostics.some((d) => d.severity === "error") && factory.validate) {
      const checked = await factory.validate(withCommonKeys(decoded.value, ctx), ctx);
      for (const key of checked.generatedKeys) ctx.generated[key] = `{{ .${key} }}`;
      diags.push(...checked.diagnostics.map((d) => (d.range ? d : { ...d, range: spec.builder.range, detail: d.detail ?? `in build "${spec.name}"` })));
    } else if (!decoded.diagnostics.some((d) => d.severity === "error")) {
      const created = factory.create(withCommonKeys(decoded.value, ctx), ctx);
      diags.push(...created.diagnostics.map((d) => (d.range ? d : { ...d, range: spec.builder.range, detail: d.detail ?? `in build "${spec.name}"` })));
    }
  } finally {
    await factory.release?.();
  }

  const components: Array<{ kind: PluginKind; spec: ProvisionerSpec | PostProcessorSpec; what: string }> = [];
  spec.provisioners.forEach((p, i) => components.push({ kind: "provisioner", spec: p, what: `provisioner ${i + 1}` }));
  if (spec.errorCleanupProvisioner) components.push({ kind: "provisioner", spec: spec.errorCleanupProvisioner, what: "error-cleanup-provisioner" });
  spec.postProcessors.flat().forEach((p, i) => components.push({ kind: "post-processor", spec: p, what: `post-processor ${i + 1}` }));

  for (const c of components) {
    const range = c.spec.config.range;
    const type = c.spec.type;
    if (!catalog.has(c.kind, type)) {
      const why = notProvidedReason(c.kind, type);
      diags.push(errorDiag(`Unknown ${c.kind} ${type}${why ? `: ${why}` : ""}`, range, `${c.what} of build "${spec.name}": ${unknownComponentDetail(c.kind, type)}`));
      continue;
    }
    try {
      const prepared = await pipeline.prepare(c.kind, c.spec, ctx, VALIDATION);
      diags.push(...prepared.diagnostics.map((d) => (d.range ? d : { ...d, range, detail: d.detail ?? `${c.what} (${type}) of build "${spec.name}"` })));
    } catch (err) {
      if (err instanceof DiagnosticsError) diags.push(...err.diagnostics);
      else diags.push(errorDiag(describeError(err), range, `${c.what} (${type}) of build "${spec.name}"`));
    }
  }
  return diags;
}
