// Packer's HCL2 templates → the template model. Loading evaluates what Packer evaluates up front
// (variables, locals, data sources, build names, source lists, only/except, per-provisioner keys)
// and keeps component bodies as ConfigBody, decoded per build. Every problem is a positioned
// Diagnostic; all errors are reported together in one DiagnosticsError.
import { resetWorkBudget } from "../../values/limits.ts";
import { readSourceText, type SourceText } from "../source-text.ts";
import { registerSecrets } from "../../ui/secrets.ts";
import { resolve } from "node:path";
import { DiagnosticsError, errorDiag, type Diagnostic } from "../../errors/diagnostic.ts";
import { containsUnknown, toJsonLoose, V, type Value } from "../../hcl/value.ts";
import { PACKER_COMPAT_VERSION } from "../../version.ts";
import type { JsonValue } from "../../values/json.ts";
import type { BuildSpec, LoadOptions, Template } from "../model.ts";
import { decodeBuildBlock, type BuildView, type SourceDecl } from "./builds.ts";
import { findTemplateFiles } from "./files.ts";
import { EvalContext, defaultsContext, hclFunctions, parseHclFile, type Block } from "./hcl.ts";
import { BUILTIN_DATA_SOURCES, LocalsCollector, sensitiveStrings, type DataSourceImpl } from "./locals-and-data.ts";
import { sourceKey } from "./names.ts";
import { checkRequiredVersions, decodePackerBlock, type PackerBlockResult } from "./packer-block.ts";
import { checkValidations, declareVariable, declareVariablesBlock, resolveVariableValues, type VariableDecl } from "./variables.ts";

export type { DataSourceImpl } from "./locals-and-data.ts";
export { UNKNOWN_PLACEHOLDER } from "./decode.ts";

/** Summary of the var-file "declared nowhere" warning: `build` and `-no-warn-undeclared-var` drop it. */
export const UNDECLARED_VARIABLE_SUMMARY = "Undefined variable";

/** Optional knobs for callers other than the CLI (tests, tools). */
export interface Hcl2LoadExtras {
  /** `path.cwd` (default: the process's working directory). */
  cwd?: string;
  /** The version `required_version` and `packer.version` see (default PACKER_COMPAT_VERSION). */
  packerVersion?: string;
  /** Data source types beyond the built-in `null`. */
  dataSources?: Record<string, DataSourceImpl>;
}

const TOP_LEVEL_SCHEMA = {
  blocks: [
    { type: "packer" },
    { type: "variable", labelNames: ["name"] },
    { type: "variables" },
    { type: "locals" },
    { type: "local", labelNames: ["name"] },
    { type: "source", labelNames: ["type", "name"] },
    { type: "data", labelNames: ["type", "name"] },
    { type: "build" },
  ],
};

export async function loadHcl2Template(path: string, opts: LoadOptions, extras: Hcl2LoadExtras = {}): Promise<Template> {
  // Each template gets the whole work budget (LIMITS.maxWork) for its evaluation.
  resetWorkBudget();
  const diags: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const packerVersion = extras.packerVersion ?? PACKER_COMPAT_VERSION;
  const files = findTemplateFiles(path);
  if (files.diagnostics.length) throw new DiagnosticsError(files.diagnostics);

  // 1. Parse every file and sort its top-level blocks by kind.
  const blocks: Block[] = [];
  for (const file of files.configFiles) {
    let read: SourceText;
    try {
      read = readSourceText(file, "strip");
    } catch {
      diags.push(errorDiag(`Failed to read file ${file}`));
      continue;
    }
    // Nothing else in a file that is not text is worth reporting.
    if (!read.ok) throw new DiagnosticsError([...diags, read.diagnostic]);
    const text = read.text;
    const parsed = parseHclFile(file, text);
    diags.push(...parsed.diagnostics);
    const { content, diagnostics } = parsed.body.content(TOP_LEVEL_SCHEMA);
    diags.push(...diagnostics);
    blocks.push(...content.blocks);
  }
  const ofType = (t: string) => blocks.filter((b) => b.type === t);

  // 2. packer {}: a version mismatch stops everything, since the rest may use newer syntax.
  const packer: PackerBlockResult = { requiredVersions: [], requiredPlugins: [] };
  for (const b of ofType("packer")) decodePackerBlock(b, diags, packer);
  const versionDiags = checkRequiredVersions(packer.requiredVersions, packerVersion);
  // A template for a newer Packer goes on with a warning, unless something in it already failed:
  // then the version is the likely cause, and the only thing reported (as Packer does).
  const asError = (d: Diagnostic): Diagnostic => ({
    ...d,
    severity: "error",
    summary: "Unsupported Packer Core version",
    detail: `${d.detail?.split(", the version")[0] ?? ""}, the version whose behaviour imgb implements; the other errors may come from features of that newer Packer.`,
  });
  if (versionDiags.some((d) => d.severity === "error") || (versionDiags.length && diags.some((d) => d.severity === "error"))) {
    throw new DiagnosticsError(versionDiags.map(asError));
  }
  warnings.push(...versionDiags);

  // 3. Variable declarations.
  const decls = new Map<string, VariableDecl>();
  const defaultsCtx = defaultsContext(opts.env);
  const declare = (d: VariableDecl) => {
    const prior = decls.get(d.name);
    if (prior) {
      diags.push(errorDiag("Duplicate variable", d.range, `Duplicate ${JSON.stringify(d.name)} variable definition found; the first was at ${prior.range.filename}:${prior.range.start.line}.`));
      return;
    }
    decls.set(d.name, d);
  };
  for (const b of blocks) {
    if (b.type === "variable") {
      const d = declareVariable(b, diags, defaultsCtx);
      if (d) declare(d);
    } else if (b.type === "variables") declareVariablesBlock(b, diags).forEach(declare);
  }

  const root = resolve(files.root);
  const cwd = extras.cwd ?? process.cwd();
  // As Packer: path.root is the template's folder as the user named it (often relative, so
  // "./${path.root}/x" works), and file functions resolve relative paths from the working directory.
  const functions = new EvalContext({}, hclFunctions(cwd));

  if (opts.syntaxOnly) {
    throwOnErrors(diags);
    return emptyTemplate(path, root, packer, warnings.concat(diags));
  }

  // 4. Values: defaults < env < auto var files < -var-file < -var.
  const values = resolveVariableValues(decls, { env: opts.env, varFiles: [...files.autoVarFiles, ...opts.varFiles], vars: opts.vars }, functions, diags, opts.inspect === true);
  // Known sensitive values are masked from here on, in every message of every verb (core/ui/secrets.ts).
  const sensitiveValues: string[] = [];
  for (const [name, d] of decls) if (d.sensitive && values[name]) sensitiveValues.push(...sensitiveStrings(values[name]!));
  registerSecrets(sensitiveValues);
  checkValidations(decls, values, functions, diags);

  // 5. Locals and data sources, in dependency order.
  const base = functions.child({
    var: V.object(values),
    path: V.object({ cwd: V.string(cwd), root: V.string(files.root) }),
    packer: V.object({ version: V.string(packerVersion) }),
  });
  const locals = new LocalsCollector(diags);
  for (const b of blocks) {
    if (b.type === "locals") locals.addLocalsBlock(b);
    else if (b.type === "local") locals.addLocalBlock(b);
    else if (b.type === "data") locals.addDataBlock(b);
  }
  const evaluated = await locals.evaluate(base, opts.inspect ? undefined : { ...BUILTIN_DATA_SOURCES, ...(extras.dataSources ?? {}) }, opts.externalDataSources);
  for (const name of evaluated.sensitiveLocals) sensitiveValues.push(...sensitiveStrings(evaluated.locals[name]!));
  registerSecrets(sensitiveValues);
  const scopeBase = base.child({ local: V.object(evaluated.locals), data: dataObject(evaluated.data) });

  // 6. Sources and builds.
  const sources = new Map<string, SourceDecl>();
  for (const b of ofType("source")) {
    const [type, name] = b.labels as [string, string];
    const key = sourceKey({ type, name });
    const prior = sources.get(key);
    if (prior) {
      diags.push(errorDiag("Duplicate source block", b.defRange, `This source block has the same type and name as a previous block at ${prior.range.filename}:${prior.range.start.line}.`));
      continue;
    }
    sources.set(key, { ref: { type, name }, body: b.body, range: b.defRange });
  }
  const builds: BuildSpec[] = [];
  const buildBlocks = ofType("build");
  const buildViews: BuildView[] = [];
  const env = { sources, base: scopeBase, templatePath: files.configFiles[0] ?? path, packerVersion, diags, warnings, views: buildViews, inspect: opts.inspect === true };
  for (const b of buildBlocks) builds.push(...decodeBuildBlock(b, env));
  if (buildBlocks.length === 0 && !opts.inspect) {
    diags.push(errorDiag("Missing build block", undefined, "A build block with one or more sources is required for executing a build."));
  }

  // Errors in a template for a newer Packer are reported with the version warning, which may explain them.
  if (diags.some((d) => d.severity === "error")) diags.unshift(...versionDiags.map(asError));
  throwOnErrors(diags);


  const variables: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(values)) variables[k] = toJsonLoose(v);

  return {
    path,
    dir: root,
    format: "hcl2",
    variables,
    sensitiveValues: [...new Set(sensitiveValues)],
    builds,
    requiredPlugins: packer.requiredPlugins,
    nameMatching: "glob",
    warnings: [...warnings, ...diags.filter((d) => d.severity === "warning")],
    ...(opts.inspect
      ? {
          inspectView: {
            format: "hcl2" as const,
            variables: [...decls.keys()].sort().map((name) => ({ name, shown: printableValue(values[name]!, decls.get(name)!.sensitive) })),
            locals: Object.keys(evaluated.locals)
              .sort()
              .map((name) => ({ name, shown: printableValue(evaluated.locals[name]!, evaluated.sensitiveLocals.includes(name)) })),
            builds: buildViews,
          },
        }
      : {}),
  };
}

/** Packer's PrintableCtyValue: "<unknown>" unless wholly known, then Go's %v of the value. */
function printableValue(v: Value, sensitive: boolean): string {
  if (containsUnknown(v)) return "<unknown>";
  if (sensitive || v.isMarked) return "<sensitive>";
  return goFormat(toJsonLoose(v));
}

function goFormat(v: JsonValue): string {
  if (v === null) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goFormat).join(" ")}]`;
  if (typeof v === "object") return `map[${Object.keys(v).sort().map((k) => `${k}:${goFormat(v[k]!)}`).join(" ")}]`;
  return String(v);
}

function throwOnErrors(diags: Diagnostic[]): void {
  if (diags.some((d) => d.severity === "error")) throw new DiagnosticsError(diags.filter((d) => d.severity === "error"));
}

function emptyTemplate(path: string, root: string, packer: PackerBlockResult, warnings: Diagnostic[]): Template {
  return {
    path,
    dir: root,
    format: "hcl2",
    variables: {},
    sensitiveValues: [],
    builds: [],
    requiredPlugins: packer.requiredPlugins,
    nameMatching: "glob",
    warnings: warnings.filter((d) => d.severity === "warning"),
  };
}

function dataObject(data: Record<string, Record<string, Value>>): Value {
  const types: Record<string, Value> = {};
  for (const [t, byName] of Object.entries(data)) types[t] = V.object(byName);
  return V.object(types);
}
