// Loads a legacy JSON template into the template model: parse (positioned), decode the structure,
// validate, resolve user variables, then lay out one BuildSpec per builder with its provisioners and
// post-processor chains already filtered by only/except. Every problem found is reported at once.
import { resetWorkBudget } from "../../values/limits.ts";
import { decodeSourceText } from "../source-text.ts";
import { registerSecrets } from "../../ui/secrets.ts";
import { dirname, resolve } from "node:path";
import { DiagnosticsError, errorDiag, hasErrors, type Diagnostic } from "../../errors/diagnostic.ts";
import { PACKER_COMPAT_VERSION } from "../../version.ts";
import type { JsonValue } from "../../values/json.ts";
import { TemplateError } from "../gotemplate/errors.ts";
import { renderString } from "../gotemplate/render.ts";
import type { BuildSpec, InspectView, LoadOptions, PostProcessorSpec, ProvisionerSpec, Template } from "../model.ts";
import { JsonConfigBody, TemplateEnv } from "./config-body.ts";
import { parseJson, type JsonStringNode } from "./positioned-json.ts";
import { decodeRawTemplate, type RawBuilder, type RawProvisioner, type RawTemplate } from "./raw-template.ts";
import { SourceFile } from "../../source/source-file.ts";
import { jsonSyntaxDiagnostic } from "./syntax-error.ts";
import { requiredVariableDiagnostics, skipFor, validateRawTemplate } from "./validate.ts";
import { readVarFile } from "./var-file.ts";
import { newerPackerWarning } from "../hcl2/packer-block.ts";

/** The start of Packer's min_packer_version error (validate.ts). */
const MIN_VERSION_ERROR = "This template requires Packer version ";
import { resolveVariables, type VariableInput } from "./variables.ts";

/** Knobs for tests and tools; the CLI passes none. */
export interface JsonLoaderOverrides {
  /** The Packer version min_packer_version and {{packer_version}} see (default PACKER_COMPAT_VERSION). */
  packerVersion?: string;
  /** Frozen time for {{timestamp}}/{{isotime}}. */
  now?: Date;
}

export async function loadJsonTemplate(path: string, opts: LoadOptions, overrides: JsonLoaderOverrides = {}): Promise<Template> {
  // Each template gets the whole work budget (LIMITS.maxWork) for its evaluation.
  resetWorkBudget();
  let text: string;
  try {
    const read = decodeSourceText(path, await Bun.file(path).bytes(), "keep");
    if (!read.ok) throw new DiagnosticsError([read.diagnostic]);
    text = read.text;
  } catch (e) {
    if (e instanceof DiagnosticsError) throw e;
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message;
    throw new DiagnosticsError([errorDiag(`Failed to parse template: open ${path}: ${reason}`)]);
  }
  const varFileInputs: Array<[string, VariableInput]> = [];
  const varFileDiags: Diagnostic[] = [];
  if (!opts.syntaxOnly && !opts.inspect) {
    for (const file of opts.varFiles) {
      const { entries, diagnostics } = await readVarFile(file);
      varFileDiags.push(...diagnostics);
      for (const e of entries) varFileInputs.push([e.name, { value: e.value.value, src: e.src, node: e.value, origin: `-var-file ${file}` }]);
    }
  }
  return loadJsonTemplateText(path, text, opts, overrides, varFileInputs, varFileDiags);
}

/**
 * The same from text in memory. Diagnostics name the file as given (relative paths stay relative,
 * as the user typed them); Template.path and {{template_dir}} use the absolute path.
 */
export function loadJsonTemplateText(
  givenPath: string,
  text: string,
  opts: LoadOptions,
  overrides: JsonLoaderOverrides = {},
  varFileInputs: Array<[string, VariableInput]> = [],
  varFileDiags: Diagnostic[] = [],
): Template {
  const packerVersion = overrides.packerVersion ?? PACKER_COMPAT_VERSION;
  const path = resolve(givenPath);
  const src = new SourceFile(givenPath, text);
  const parsed = parseJson(src);
  if (!parsed.ok) throw new DiagnosticsError([jsonSyntaxDiagnostic(src, parsed.error)]);

  const decoded = decodeRawTemplate(src, parsed.node);
  const diags: Diagnostic[] = [...decoded.diagnostics];
  const raw = decoded.raw;
  if (!raw) throw new DiagnosticsError(diags);

  if (opts.syntaxOnly || opts.inspect) {
    if (hasErrors(diags)) throw new DiagnosticsError(diags);
    const defaults = Object.fromEntries(raw.variables.map((v) => [v.name, v.default]));
    const env = new TemplateEnv(src, defaults, path, optionsOf(overrides, packerVersion));
    const template = assemble(path, raw, env, defaults, [], raw.builders.map((b) => b.name), diags);
    return opts.inspect ? { ...template, inspectView: inspectViewOf(raw) } : template;
  }

  diags.push(...varFileDiags);
  diags.push(...validateRawTemplate(src, raw, packerVersion));

  // Variable values: template defaults < -var-file (in order) < -var (in order).
  const inputs = new Map<string, VariableInput>();
  for (const v of raw.variables) {
    inputs.set(v.name, v.value.kind === "string" ? { value: v.default, src, node: v.value as JsonStringNode, origin: "default" } : { value: "", origin: "default" });
  }
  const provided = new Set<string>();
  for (const [name, input] of varFileInputs) {
    inputs.set(name, input);
    provided.add(name);
  }
  for (const [name, value] of opts.vars) {
    inputs.set(name, { value, origin: `-var ${name}` });
    provided.add(name);
  }
  diags.push(...requiredVariableDiagnostics(src, raw, provided));
  const resolved = resolveVariables(inputs, { env: opts.env, templatePath: path, ...optionsOf(overrides, packerVersion) });
  diags.push(...resolved.diagnostics);
  const variables = resolved.values;

  const sensitiveValues = [
    ...new Set(raw.sensitiveVariables.map((n) => variables[n]).filter((v): v is string => v !== undefined && v !== "")),
  ];
  // Masked from here on, in every message of every verb (core/ui/secrets.ts).
  registerSecrets(sensitiveValues);

  const env = new TemplateEnv(src, variables, path, optionsOf(overrides, packerVersion));
  const names = buildNames(raw.builders, env, diags);
  acceptNewerPacker(diags, raw);
  if (hasErrors(diags)) throw new DiagnosticsError(diags);
  return assemble(path, raw, env, variables, sensitiveValues, names, diags);
}

/** Packer's JSON inspect shows the template as written: raw defaults and builder names. */
function inspectViewOf(raw: RawTemplate): InspectView {
  const sensitive = new Set(raw.sensitiveVariables);
  return {
    format: "json",
    ...(raw.description ? { description: raw.description } : {}),
    variables: raw.variables.map((v) => ({ name: v.name, default: v.default, required: v.required, sensitive: sensitive.has(v.name) })),
    builders: raw.builders.map((b) => ({ name: b.name, type: b.type })),
    provisioners: raw.provisioners.map((p) => p.type),
    postProcessors: raw.postProcessors.map((chain) => chain.map((pp) => pp.type)),
  };
}

/**
 * min_packer_version newer than the Packer imgb implements: Packer refuses; imgb goes on with a
 * warning when nothing else in the template failed (every key is checked anyway). With other errors,
 * Packer's error stays, since the newer version may explain them.
 */
function acceptNewerPacker(diags: Diagnostic[], raw: RawTemplate): void {
  const i = diags.findIndex((d) => d.severity === "error" && d.summary.startsWith(MIN_VERSION_ERROR));
  if (i < 0 || diags.some((d, j) => j !== i && d.severity === "error")) return;
  const have = /; using (\S+)$/.exec(diags[i]!.summary)?.[1] ?? "";
  diags[i] = newerPackerWarning(`min_packer_version ${JSON.stringify(raw.minVersion)}`, have, diags[i]!.range);
}

function optionsOf(o: JsonLoaderOverrides, packerVersion: string): { now?: Date; packerVersion: string } {
  return { packerVersion, ...(o.now ? { now: o.now } : {}) };
}

/** Builder names are rendered with the core context (user variables; no build_name yet), like Packer. */
function buildNames(builders: RawBuilder[], env: TemplateEnv, diags: Diagnostic[]): string[] {
  const seen = new Map<string, RawBuilder>();
  return builders.map((b) => {
    let name = b.name;
    try {
      // Packer's Render repeats until the text stops changing (a variable may hold a template).
      for (let i = 0; i < 10; i++) {
        const next = renderString(name, undefined, env.coreContext());
        if (next === name) break;
        name = next;
      }
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const node = b.nameNode ?? b.node.members.get("type")?.value ?? b.node;
      const range = node.kind === "string" && name === b.name ? env.errorRange(node, e) : env.range(node);
      diags.push(errorDiag(`Error interpolating builder '${b.name}': template: ${e.message}`, range));
      return b.name;
    }
    const other = seen.get(name);
    if (other) diags.push(errorDiag(`builder ${b.index}: build name '${name}' is also the name of builder ${other.index}`, env.range(b.nameNode ?? b.node)));
    seen.set(name, b);
    return name;
  });
}

function assemble(
  path: string,
  raw: RawTemplate,
  env: TemplateEnv,
  variables: Record<string, JsonValue>,
  sensitiveValues: string[],
  names: string[],
  diags: Diagnostic[],
): Template {
  const builds: BuildSpec[] = [];
  const maxRetries = new Map<RawProvisioner, number>();
  const retriesOf = (p: RawProvisioner): number => {
    const cached = maxRetries.get(p);
    if (cached !== undefined) return cached;
    const n = renderMaxRetries(p, env, diags);
    maxRetries.set(p, n);
    return n;
  };

  raw.builders.forEach((b, i) => {
    const name = names[i] ?? b.name;
    const provisioners = raw.provisioners.filter((p) => !skipFor(p, b.name)).map((p) => provisionerSpec(p, b.name, env, retriesOf(p)));
    const postProcessors: PostProcessorSpec[][] = [];
    for (const chain of raw.postProcessors) {
      const specs = chain.filter((pp) => !skipFor(pp, b.name)).map((pp) => {
        const spec: PostProcessorSpec = {
          type: pp.type,
          name: pp.name,
          config: new JsonConfigBody(env, pp.config, env.range(pp.node)),
          range: env.range(pp.node),
        };
        if (pp.keepInputArtifact !== undefined) spec.keepInputArtifact = pp.keepInputArtifact;
        return spec;
      });
      if (specs.length > 0) postProcessors.push(specs);
    }
    const spec: BuildSpec = {
      name,
      sourceName: name,
      builderType: b.type,
      builder: new JsonConfigBody(env, b.config, env.range(b.node)),
      provisioners,
      postProcessors,
      range: env.range(b.node),
    };
    if (raw.cleanupProvisioner) spec.errorCleanupProvisioner = provisionerSpec(raw.cleanupProvisioner, b.name, env, retriesOf(raw.cleanupProvisioner));
    builds.push(spec);
  });
  if (hasErrors(diags)) throw new DiagnosticsError(diags);

  const template: Template = {
    path,
    dir: dirname(path),
    format: "json",
    variables,
    sensitiveValues,
    builds,
    requiredPlugins: [],
    nameMatching: "exact",
    warnings: diags.filter((d) => d.severity === "warning"),
  };
  if (raw.description !== undefined) template.description = raw.description;
  if (raw.minVersion !== undefined) template.minVersion = raw.minVersion;
  return template;
}

function provisionerSpec(p: RawProvisioner, rawBuildName: string, env: TemplateEnv, maxRetries: number): ProvisionerSpec {
  const spec: ProvisionerSpec = {
    type: p.type,
    config: new JsonConfigBody(env, p.config, env.range(p.node)),
    maxRetries,
    range: env.range(p.node),
  };
  const ov = p.override.get(rawBuildName);
  if (ov && ov.value.kind === "object") {
    spec.override = new JsonConfigBody(env, [...ov.value.members.values()], env.range(ov.value), true);
  }
  if (p.pauseBeforeMs !== undefined && p.pauseBeforeMs !== 0) spec.pauseBeforeMs = p.pauseBeforeMs;
  if (p.timeoutMs !== undefined && p.timeoutMs !== 0) spec.timeoutMs = p.timeoutMs;
  return spec;
}

/** max_retries is a string in Packer: rendered with the core context, then parsed as an integer. */
function renderMaxRetries(p: RawProvisioner, env: TemplateEnv, diags: Diagnostic[]): number {
  if (p.maxRetries === undefined || p.maxRetries === "") return 0;
  const node = p.maxRetriesNode ?? p.node;
  let text: string;
  try {
    text = renderString(p.maxRetries, undefined, env.coreContext());
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    diags.push(errorDiag(`failed to interpolate \`max_retries\`: template: ${e.message}`, node.kind === "string" ? env.errorRange(node, e) : env.range(node)));
    return 0;
  }
  if (!/^[+-]?\d+$/.test(text)) {
    diags.push(errorDiag(`\`max_retries\` must be a valid integer: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`, env.range(node)));
    return 0;
  }
  return Number(text);
}
