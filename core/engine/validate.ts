// `imgb validate`: everything a build would check before touching a machine — the builder's config,
// every provisioner's and post-processor's config through its plugin's Prepare/Configure (which
// has no side effects), with `build.*` values as placeholders. All problems are reported together.
import { unknownComponentDetail } from "../registry/packer-plugins.ts";
import type { Diagnostic } from "../errors/diagnostic.ts";
import { DiagnosticsError, errorDiag } from "../errors/diagnostic.ts";
import type { PluginCatalog, PluginKind, PostProcessor, Provisioner } from "../plugin/types.ts";
import type { BuildSpec, ConfigBody, Template } from "../template/model.ts";
import type { JsonObject, JsonValue } from "../values/json.ts";
import { overrideSchema } from "../config/schema.ts";
import { resolveBuilderFactory } from "../builders/registry.ts";
import { buildContext, withCommonKeys } from "./build-runner.ts";
import { errorMessage } from "./provision.ts";
import { selectBuilds, type BuildFilter } from "./plan.ts";
import { notProvidedReason } from "../plugin/not-provided.ts";

type Instance = Provisioner | PostProcessor;

export interface ValidationResult {
  /** Every diagnostic, template warnings first. */
  diagnostics: Diagnostic[];
  /** Builds with at least one error, by name: `build` reports them and runs the others (as Packer). */
  invalidBuilds: Set<string>;
}

export async function validateTemplate(template: Template, catalog: PluginCatalog, filter: BuildFilter): Promise<ValidationResult> {
  const diags: Diagnostic[] = [...template.warnings];
  const invalidBuilds = new Set<string>();
  // Prepare is pure, so one sandbox per plugin type serves every component of that type.
  const instances = new Map<string, Promise<Instance>>();
  const instance = (kind: PluginKind, type: string): Promise<Instance> => {
    const key = `${kind}/${type}`;
    let p = instances.get(key);
    if (!p) {
      p = kind === "provisioner" ? catalog.provisioner(type) : catalog.postProcessor(type);
      instances.set(key, p);
    }
    return p;
  };
  try {
    // Builds are checked together (a Packer plugin builder's Prepare runs in its own process, as
    // Packer starts one per build); their diagnostics are reported in template order.
    const specs = selectBuilds(template, filter);
    const results = await Promise.all(specs.map((spec) => validateBuild(spec, catalog, instance, template.variables)));
    specs.forEach((spec, i) => {
      const found = results[i]!;
      if (found.some((d) => d.severity === "error")) invalidBuilds.add(spec.name);
      diags.push(...found);
    });
  } finally {
    await Promise.all([...instances.values()].map((p) => p.then((i) => i.close()).catch(() => undefined)));
  }
  return { diagnostics: diags, invalidBuilds };
}

async function validateBuild(
  spec: BuildSpec,
  catalog: PluginCatalog,
  instance: (kind: PluginKind, type: string) => Promise<Instance>,
  variables: Record<string, JsonValue>,
): Promise<Diagnostic[]> {
  const diags: Diagnostic[] = [];
  const ctx = buildContext(spec, true, { userVariables: variables });
  let factory;
  try {
    factory = await resolveBuilderFactory(spec.builderType);
  } catch (err) {
    diags.push(errorDiag(errorMessage(err), spec.builder.range ?? spec.range, `in build "${spec.name}"`));
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

  const components: Array<{ kind: PluginKind; type: string; bodies: ConfigBody[]; what: string }> = [];
  spec.provisioners.forEach((p, i) =>
    components.push({ kind: "provisioner", type: p.type, bodies: p.override ? [p.config, p.override] : [p.config], what: `provisioner ${i + 1}` }),
  );
  if (spec.errorCleanupProvisioner)
    components.push({ kind: "provisioner", type: spec.errorCleanupProvisioner.type, bodies: [spec.errorCleanupProvisioner.config], what: "error-cleanup-provisioner" });
  spec.postProcessors.flat().forEach((p, i) =>
    components.push({ kind: "post-processor", type: p.type, bodies: [p.config], what: `post-processor ${i + 1}` }),
  );

  for (const c of components) {
    const range = c.bodies[0]?.range;
    if (!catalog.has(c.kind, c.type)) {
      const why = notProvidedReason(c.kind, c.type);
      diags.push(errorDiag(`Unknown ${c.kind} ${c.type}${why ? `: ${why}` : ""}`, range, `${c.what} of build "${spec.name}": ${unknownComponentDetail(c.kind, c.type)}`));
      continue;
    }
    try {
      const plugin = await instance(c.kind, c.type);
      const schema = plugin.description.schema;
      const configs: JsonObject[] = [];
      let ok = true;
      c.bodies.forEach((body, i) => {
        const decoded = body.decode(ctx, i === 0 ? schema : overrideSchema(schema));
        diags.push(...decoded.diagnostics);
        if (decoded.diagnostics.some((d) => d.severity === "error")) ok = false;
        configs.push(decoded.value);
      });
      if (!ok) continue;
      const result = "prepare" in plugin ? await plugin.prepare(configs) : await plugin.configure(configs);
      diags.push(...result.diagnostics.map((d) => (d.range ? d : { ...d, range, detail: d.detail ?? `${c.what} (${c.type}) of build "${spec.name}"` })));
    } catch (err) {
      if (err instanceof DiagnosticsError) diags.push(...err.diagnostics);
      else diags.push(errorDiag(errorMessage(err), range, `${c.what} (${c.type}) of build "${spec.name}"`));
    }
  }
  return diags;
}
