// `build {}` blocks → BuildSpecs: one per source the block uses (its `sources` list first, then its
// inline `source "TYPE.NAME" {}` blocks), each with the provisioners and post-processor chains whose
// only/except let that source through. Component bodies stay unevaluated (ConfigBody).
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { ConversionError, conversionMessage, convert } from "../../hcl/convert.ts";
import { T } from "../../hcl/types.ts";
import { V, containsUnknown, type Value } from "../../hcl/value.ts";
import { parseGoDuration } from "../../values/go-duration.ts";
import type { BuildSpec, PostProcessorSpec, ProvisionerSpec } from "../model.ts";
import { HclConfigBody, type ComponentScope } from "./config-body.ts";
import type { ConfigLayer } from "./decode.ts";
import { expandDynamicBlocks, type Block, type Body, type EvalContext, type Expression } from "./hcl.ts";
import { buildNameOf, onlyExceptAllows, parseSourceRef, sourceKey, type SourceRef } from "./names.ts";

export interface SourceDecl {
  ref: SourceRef;
  body: Body;
  range: SourceRange;
}

interface SourceUsage {
  ref: SourceRef;
  /** `name = "..."` of an inline source block. */
  localName?: string;
  override?: Body;
  range: SourceRange;
}

interface OnlyExcept {
  only: string[];
  except: string[];
}

interface ProvisionerDecl {
  type: string;
  name?: string;
  filter: OnlyExcept;
  body: Body;
  /** Evaluated per build, where `source.name` and `source.type` are known. */
  override?: Expression;
  pauseBeforeMs?: number;
  maxRetries: number;
  timeoutMs?: number;
  range: SourceRange;
}

interface PostProcessorDecl {
  type: string;
  name?: string;
  filter: OnlyExcept;
  body: Body;
  keepInputArtifact?: boolean;
  range: SourceRange;
}

const BUILD_SCHEMA = {
  attributes: [{ name: "name" }, { name: "description" }, { name: "sources" }],
  blocks: [
    { type: "source", labelNames: ["reference"] },
    { type: "provisioner", labelNames: ["type"] },
    { type: "error-cleanup-provisioner", labelNames: ["type"] },
    { type: "post-processor", labelNames: ["type"] },
    { type: "post-processors" },
    { type: "hcp_packer_registry" },
  ],
};

const PROVISIONER_KEYS = ["name", "only", "except", "override", "pause_before", "max_retries", "timeout"].map((name) => ({ name }));
const POST_PROCESSOR_KEYS = ["name", "only", "except", "keep_input_artifact"].map((name) => ({ name }));

export interface BuildBlockEnv {
  sources: Map<string, SourceDecl>;
  base: EvalContext;
  templatePath: string;
  packerVersion: string;
  diags: Diagnostic[];
  warnings: Diagnostic[];
  /** Filled with what `inspect` shows of each build block. */
  views?: BuildView[];
  /** inspect: sources that are unknown (unset variables) or not declared are shown, not errors. */
  inspect?: boolean;
}

/** One build block as Packer's inspect lists it. */
export interface BuildView {
  name?: string;
  description?: string;
  sources: string[];
  provisioners: string[];
  postProcessors: string[][];
}

export function decodeBuildBlock(block: Block, env: BuildBlockEnv): BuildSpec[] {
  const { diags, base } = env;
  const body = expandDynamicBlocks(block.body, base);
  const { content, diagnostics } = body.content(BUILD_SCHEMA);
  diags.push(...diagnostics);
  const a = content.attributes;

  const buildName = a.name ? stringAttr(a.name.expr, base, diags, "name") : undefined;
  const description = a.description ? stringAttr(a.description.expr, base, diags, "description") : undefined;
  const scope: ComponentScope = { base, buildBlockName: buildName ?? "", templatePath: env.templatePath, packerVersion: env.packerVersion };
  const metaCtx = base.child({ build: V.object({ name: V.string(buildName ?? "") }) });

  const usages: SourceUsage[] = [];
  let sourcesFailed = false;
  let sourcesUnknown = false;
  if (a.sources) {
    const sourceDiags: Diagnostic[] = [];
    const list = evalAs(a.sources.expr, base, T.list(T.string), sourceDiags, "sources");
    if (env.inspect && !list) sourcesUnknown = true;
    else diags.push(...sourceDiags);
    if (!list) sourcesFailed = true;
    const items = a.sources.expr.asList();
    list?.elems.forEach((e, i) => {
      const range = items?.[i]?.range ?? a.sources!.expr.range;
      const ref = parseSourceRef(e.str);
      if (!ref) diags.push(errorDiag("Invalid source reference", range, `${JSON.stringify(e.str)} is not a source reference; use "source.TYPE.NAME".`));
      else usages.push({ ref, range });
    });
  }
  const errorCleanups: ProvisionerDecl[] = [];
  const provisioners: ProvisionerDecl[] = [];
  const chains: PostProcessorDecl[][] = [];
  for (const b of content.blocks) {
    switch (b.type) {
      case "source": {
        const ref = parseSourceRef(b.labels[0]!);
        if (!ref) {
          diags.push(errorDiag("Invalid source reference", b.labelRanges[0], `${JSON.stringify(b.labels[0])} is not a source reference; use "source.TYPE.NAME".`));
          break;
        }
        const part = b.body.partialContent({ attributes: [{ name: "name" }] });
        diags.push(...part.diagnostics);
        const nameAttr = part.content.attributes.name;
        const usage: SourceUsage = { ref, override: part.remain, range: b.defRange };
        if (nameAttr) {
          const n = stringAttr(nameAttr.expr, base, diags, "name");
          if (n !== undefined) usage.localName = n;
        }
        usages.push(usage);
        break;
      }
      case "provisioner":
        pushIf(provisioners, decodeProvisioner(b, metaCtx, diags));
        break;
      case "error-cleanup-provisioner":
        if (errorCleanups.length > 0) {
          diags.push(errorDiag("Duplicate error-cleanup-provisioner block", b.defRange, "Only one error-cleanup-provisioner block is allowed per build block."));
          break;
        }
        pushIf(errorCleanups, decodeProvisioner(b, metaCtx, diags));
        break;
      case "post-processor": {
        const pp = decodePostProcessor(b, metaCtx, diags);
        if (pp) chains.push([pp]);
        break;
      }
      case "post-processors": {
        const { content: inner, diagnostics: innerDiags } = expandDynamicBlocks(b.body, base).content({ blocks: [{ type: "post-processor", labelNames: ["type"] }] });
        diags.push(...innerDiags);
        const chain: PostProcessorDecl[] = [];
        for (const ib of inner.blocks) pushIf(chain, decodePostProcessor(ib, metaCtx, diags));
        if (chain.length > 0) chains.push(chain);
        break;
      }
      case "hcp_packer_registry":
        checkHcpRegistry(b, base, diags, env.warnings);
        break;
    }
  }

  const label = (c: { type: string; name?: string }) => (c.name ? `${c.type}.${c.name}` : c.type);
  env.views?.push({
    ...(buildName !== undefined ? { name: buildName } : {}),
    ...(description ? { description } : {}),
    sources: [...usages.map((u) => `${u.ref.type}.${u.localName ?? u.ref.name}`), ...(sourcesUnknown ? ["<unknown>"] : [])],
    provisioners: provisioners.map(label),
    postProcessors: chains.map((chain) => chain.map(label)),
  });

  if (usages.length === 0) {
    // A `sources` list that could not be read was already reported.
    if (sourcesFailed) return [];
    diags.push(errorDiag("missing source reference", block.defRange, "A build block must use at least one source: `sources = [\"source.TYPE.NAME\"]` or an inline `source \"source.TYPE.NAME\" {}` block."));
    return [];
  }

  const specs: BuildSpec[] = [];
  const seen = new Set<string>();
  for (const u of usages) {
    const decl = env.sources.get(sourceKey(u.ref));
    if (!decl) {
      if (env.inspect) continue;
      const known = [...env.sources.keys()].sort();
      diags.push(errorDiag(`Unknown source ${sourceKey(u.ref)}`, block.defRange, `Known: [${known.join(" ")}]`));
      continue;
    }
    const sourceName = u.localName ?? u.ref.name;
    const name = buildNameOf(buildName, u.ref.type, sourceName);
    if (seen.has(name)) {
      diags.push(errorDiag("Duplicate source", u.range, `The build ${JSON.stringify(name)} is defined twice in this build block; give one of them another name with \`name = "..."\`.`));
      continue;
    }
    seen.add(name);
    const layers: ConfigLayer[] = [{ kind: "body", body: decl.body }];
    if (u.override) layers.push({ kind: "body", body: u.override });
    const lets = (f: OnlyExcept) => onlyExceptAllows(f, u.ref.type, sourceName);
    const spec: BuildSpec = {
      name,
      sourceName,
      builderType: u.ref.type,
      builder: new HclConfigBody(scope, layers, decl.range),
      provisioners: provisioners.filter((p) => lets(p.filter)).map((p) => provisionerSpec(p, scope, u, sourceName, metaCtx, diags)),
      postProcessors: chains
        .map((chain) => chain.filter((pp) => lets(pp.filter)).map((pp) => postProcessorSpec(pp, scope)))
        .filter((chain) => chain.length > 0),
      range: u.range,
    };
    const cleanup = errorCleanups[0];
    if (cleanup && lets(cleanup.filter)) spec.errorCleanupProvisioner = provisionerSpec(cleanup, scope, u, sourceName, metaCtx, diags);
    specs.push(spec);
  }

  // only/except names that match no source of this build block are mistakes (Packer 1.6.6 silently
  // ignores them, so the component never runs and nobody notices) — unless the template declares
  // that source: a build whose `sources` come from a variable (chef/bento) names the others too.
  const names = new Set([...usages.map((u) => `${u.ref.type}.${u.localName ?? u.ref.name}`), ...env.sources.keys()]);
  for (const c of [...provisioners, ...errorCleanups, ...chains.flat()]) checkOnlyExceptNames(c, names, diags);
  return specs;
}

function provisionerSpec(p: ProvisionerDecl, scope: ComponentScope, u: SourceUsage, sourceName: string, ctx: EvalContext, diags: Diagnostic[]): ProvisionerSpec {
  const spec: ProvisionerSpec = { type: p.type, config: new HclConfigBody(scope, [{ kind: "body", body: p.body }], p.range), maxRetries: p.maxRetries, range: p.range };
  if (p.name !== undefined) spec.name = p.name;
  if (p.pauseBeforeMs !== undefined) spec.pauseBeforeMs = p.pauseBeforeMs;
  if (p.timeoutMs !== undefined) spec.timeoutMs = p.timeoutMs;
  // Packer decodes `override` once with source.* unknown; evaluating it per build with the real
  // source lets `override = { (source.name) = {...} }` and values built from source.type work.
  const overrideValue = p.override ? evalOverride(p.override, ctx.child({ source: V.object({ name: V.string(sourceName), type: V.string(u.ref.type) }) }), diags) : undefined;
  if (p.override && overrideValue && !overrideValue.isNull && overrideValue.isKnown) {
    const range = p.override.range;
    const o = overrideValue.attrs.get(sourceName) ?? overrideValue.attrs.get(u.ref.name);
    if (o) spec.override = new HclConfigBody(scope, [{ kind: "value", value: o, range }], range, true);
  }
  return spec;
}

/** One diagnostic per distinct problem, though the expression is evaluated once per build. */
function evalOverride(expr: Expression, ctx: EvalContext, diags: Diagnostic[]): Value | undefined {
  const own: Diagnostic[] = [];
  const v = evalAs(expr, ctx, T.map(T.dynamic), own, "override");
  for (const d of own) {
    const same = (x: Diagnostic) => x.summary === d.summary && x.detail === d.detail && JSON.stringify(x.range) === JSON.stringify(d.range);
    if (!diags.some(same)) diags.push(d);
  }
  return v;
}

function postProcessorSpec(p: PostProcessorDecl, scope: ComponentScope): PostProcessorSpec {
  const spec: PostProcessorSpec = { type: p.type, config: new HclConfigBody(scope, [{ kind: "body", body: p.body }], p.range), range: p.range };
  if (p.name !== undefined) spec.name = p.name;
  if (p.keepInputArtifact !== undefined) spec.keepInputArtifact = p.keepInputArtifact;
  return spec;
}

function decodeProvisioner(b: Block, ctx: EvalContext, diags: Diagnostic[]): ProvisionerDecl | undefined {
  const part = b.body.partialContent({ attributes: PROVISIONER_KEYS });
  diags.push(...part.diagnostics);
  const a = part.content.attributes;
  const before = diags.length;
  const decl: ProvisionerDecl = { type: b.labels[0]!, filter: decodeOnlyExcept(a.only?.expr, a.except?.expr, ctx, diags), body: part.remain, maxRetries: 0, range: b.defRange };
  if (a.name) {
    const n = stringAttr(a.name.expr, ctx, diags, "name");
    if (n !== undefined) decl.name = n;
  }
  if (a.pause_before) {
    const ms = durationAttr(a.pause_before.expr, ctx, diags, "pause_before");
    if (ms !== undefined) decl.pauseBeforeMs = ms;
  }
  if (a.timeout) {
    const ms = durationAttr(a.timeout.expr, ctx, diags, "timeout");
    if (ms !== undefined) decl.timeoutMs = ms;
  }
  if (a.max_retries) {
    const v = evalAs(a.max_retries.expr, ctx, T.number, diags, "max_retries");
    if (v) {
      const n = v.num.toNumber();
      if (!Number.isInteger(n) || n < 0) diags.push(errorDiag("Invalid max_retries", a.max_retries.expr.range, "max_retries must be a whole number, 0 or more."));
      else decl.maxRetries = n;
    }
  }
  if (a.override) decl.override = a.override.expr;
  return diags.length > before ? undefined : decl;
}

function decodePostProcessor(b: Block, ctx: EvalContext, diags: Diagnostic[]): PostProcessorDecl | undefined {
  const part = b.body.partialContent({ attributes: POST_PROCESSOR_KEYS });
  diags.push(...part.diagnostics);
  const a = part.content.attributes;
  const before = diags.length;
  const decl: PostProcessorDecl = { type: b.labels[0]!, filter: decodeOnlyExcept(a.only?.expr, a.except?.expr, ctx, diags), body: part.remain, range: b.defRange };
  if (a.name) {
    const n = stringAttr(a.name.expr, ctx, diags, "name");
    if (n !== undefined) decl.name = n;
  }
  if (a.keep_input_artifact) {
    const v = evalAs(a.keep_input_artifact.expr, ctx, T.bool, diags, "keep_input_artifact");
    if (v) decl.keepInputArtifact = v.bool;
  }
  return diags.length > before ? undefined : decl;
}

function decodeOnlyExcept(only: Expression | undefined, except: Expression | undefined, ctx: EvalContext, diags: Diagnostic[]): OnlyExcept {
  const out: OnlyExcept = { only: [], except: [] };
  if (only && except) {
    diags.push(errorDiag("Invalid only/except", except.range, "Only one of 'only' or 'except' may be specified."));
    return out;
  }
  // `source.TYPE.NAME` is accepted as `TYPE.NAME` (what the writer meant; Packer 1.6.6 silently
  // matched nothing).
  const names = (e: Value) => {
    const ref = parseSourceRef(e.str);
    return ref && e.str.startsWith("source") ? sourceKey(ref) : e.str;
  };
  if (only) out.only = evalAs(only, ctx, T.list(T.string), diags, "only")?.elems.map(names) ?? [];
  if (except) out.except = evalAs(except, ctx, T.list(T.string), diags, "except")?.elems.map(names) ?? [];
  return out;
}

function checkOnlyExceptNames(c: { filter: OnlyExcept; range: SourceRange }, names: Set<string>, diags: Diagnostic[]): void {
  for (const n of [...c.filter.only, ...c.filter.except]) {
    if (names.has(n)) continue;
    diags.push(errorDiag("Unknown source in only/except", c.range, `${JSON.stringify(n)} is not a source of this build block (known: ${[...names].sort().join(", ")}).`));
  }
}

/** hcp_packer_registry is accepted (HCP is not part of imgb) and checked so mistakes still show. */
function checkHcpRegistry(b: Block, ctx: EvalContext, diags: Diagnostic[], warnings: Diagnostic[]): void {
  const { content, diagnostics } = b.body.content({
    attributes: [{ name: "bucket_name" }, { name: "description" }, { name: "bucket_labels" }, { name: "build_labels" }],
  });
  diags.push(...diagnostics);
  const a = content.attributes;
  if (a.bucket_name) stringAttr(a.bucket_name.expr, ctx, diags, "bucket_name");
  if (a.description) {
    const d = stringAttr(a.description.expr, ctx, diags, "description");
    if (d !== undefined && [...d].length > 255) diags.push(errorDiag("Invalid hcp_packer_registry config", a.description.expr.range, "description must be less than 255 characters."));
  }
  for (const k of ["bucket_labels", "build_labels"] as const) {
    const attr = a[k];
    if (attr) evalAs(attr.expr, ctx, T.map(T.string), diags, k);
  }
  warnings.push({ severity: "warning", summary: "hcp_packer_registry is ignored", detail: "imgb does not publish to HCP Packer; the block was checked and skipped.", range: b.defRange });
}

function pushIf<T>(list: T[], v: T | undefined): void {
  if (v !== undefined) list.push(v);
}

export function evalAs(expr: Expression, ctx: EvalContext, type: typeof T.string, diags: Diagnostic[], what: string): Value | undefined {
  const r = expr.evaluate(ctx);
  diags.push(...r.diagnostics);
  if (r.diagnostics.some((d) => d.severity === "error")) return undefined;
  if (!r.value.isKnown) {
    diags.push(errorDiag(`Unknown ${what}`, expr.range, `The value of ${what} must be known when the template is loaded.`));
    return undefined;
  }
  if (r.value.isNull) return undefined;
  // Unknown parts come from inputs that already failed (and were reported): stay quiet.
  if (containsUnknown(r.value)) return undefined;
  try {
    return convert(r.value.unmark(), type);
  } catch (e) {
    if (!(e instanceof ConversionError)) throw e;
    diags.push(errorDiag("Incorrect attribute value type", expr.range, `Inappropriate value for attribute ${JSON.stringify(what)}: ${conversionMessage(e)}.`));
    return undefined;
  }
}

function stringAttr(expr: Expression, ctx: EvalContext, diags: Diagnostic[], what: string): string | undefined {
  return evalAs(expr, ctx, T.string, diags, what)?.str;
}

function durationAttr(expr: Expression, ctx: EvalContext, diags: Diagnostic[], what: string): number | undefined {
  const s = stringAttr(expr, ctx, diags, what);
  if (s === undefined) return undefined;
  const d = parseGoDuration(s);
  if (!d.ok) {
    diags.push(errorDiag(`Invalid ${what}`, expr.range, d.error));
    return undefined;
  }
  return d.ms;
}
