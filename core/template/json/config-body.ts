// ConfigBody for a legacy JSON component: on decode, every string (nested ones and nested map keys
// too) is rendered with the template context of one build, except keys the schema marks `late`, which
// the plugin renders itself. With a schema, keys are checked (unknown key, type) the way Packer's
// mapstructure decoding does it — weakly: "true" is a bool, "5" a number, "a,b" a list — and every
// problem points at the key or value in the template file.
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import type { ConfigField, ConfigSchema, FieldType } from "../../plugin/schema.ts";
import type { JsonObject, JsonValue } from "../../values/json.ts";
import { TemplateError } from "../gotemplate/errors.ts";
import { checkTemplate, isPlainText, renderString } from "../gotemplate/render.ts";
import { contextForBuild } from "../gotemplate/build-context.ts";
import type { TemplateContext } from "../gotemplate/packer-funcs.ts";
import type { BuildContextValues, ConfigBody } from "../model.ts";
import { goFloatString, parseGoBool } from "./decode-helpers.ts";
import { stringValueOffset, toJsonValue, type JsonMember, type JsonNode, type JsonStringNode } from "./positioned-json.ts";
import type { SourceFile } from "./source.ts";

/** What every component of one template shares: the file, the final user variables, the paths. */
export class TemplateEnv {
  private readonly contexts = new WeakMap<BuildContextValues, TemplateContext>();
  private core?: TemplateContext;

  constructor(
    readonly src: SourceFile,
    readonly userVariables: Readonly<Record<string, string>>,
    readonly templatePath: string,
    readonly options: { now?: Date; packerVersion?: string } = {},
  ) {}

  /** The interpolation context of one build (cached per build object; `generated` is read live). */
  contextFor(build: BuildContextValues): TemplateContext {
    let ctx = this.contexts.get(build);
    if (!ctx) {
      ctx = contextForBuild(build, {
        userVariables: this.userVariables,
        templatePath: this.templatePath,
        ...(this.options.now ? { now: this.options.now } : {}),
        ...(this.options.packerVersion ? { packerVersion: this.options.packerVersion } : {}),
      });
      this.contexts.set(build, ctx);
    }
    return ctx;
  }

  /** The core's own context (no build): builder names and max_retries are rendered with it. */
  coreContext(): TemplateContext {
    // One object, so the function map built for it is cached too.
    this.core ??= {
      userVariables: this.userVariables,
      templatePath: this.templatePath,
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(this.options.packerVersion ? { packerVersion: this.options.packerVersion } : {}),
    };
    return this.core;
  }

  range(node: { start: number; end: number }): SourceRange {
    return this.src.range(node.start, node.end);
  }

  /** Range of a TemplateError inside a string node. */
  errorRange(node: JsonStringNode, err: TemplateError): SourceRange {
    const text = this.src.text;
    return this.src.range(stringValueOffset(text, node, err.offset), stringValueOffset(text, node, err.offset + err.length));
  }
}

export class JsonConfigBody implements ConfigBody {
  readonly range?: SourceRange;

  /**
   * @param partial an override: only the keys it sets, so no defaults and no required-key checks
   *   (it is merged over the full config).
   */
  constructor(
    private readonly env: TemplateEnv,
    private readonly members: readonly JsonMember[],
    range?: SourceRange,
    private readonly partial = false,
  ) {
    if (range) this.range = range;
  }

  /** The raw (unrendered) configuration, e.g. for inspect or hcl2_upgrade. */
  raw(): JsonObject {
    const out: JsonObject = {};
    for (const m of this.members) out[m.key.value] = toJsonValue(m.value);
    return out;
  }

  decode(build: BuildContextValues, schema?: ConfigSchema): { value: JsonObject; diagnostics: Diagnostic[] } {
    const ctx = this.env.contextFor(build);
    const diags: Diagnostic[] = [];
    const out: JsonObject = {};
    const dot = build.generated;
    // Keys the template sets (even if their value was rejected): no "required" error for those.
    const present = new Set<string>();
    for (const m of this.members) {
      const key = m.key.value;
      present.add(key);
      const field = schema?.fields.find((f) => f.name === key);
      if (schema && !field && !schema.allowUnknown && !key.startsWith("packer_")) {
        diags.push(errorDiag(`unknown configuration key: '${JSON.stringify(key)}'`, this.env.range(m.key)));
        continue;
      }
      if (field?.late || (!field && schema?.unknownLate)) {
        this.checkSyntax(m.value, key, diags);
        out[key] = toJsonValue(m.value);
        continue;
      }
      const rendered = this.render(m.value, ctx, dot, key, diags);
      if (rendered === undefined || rendered === null) continue;
      if (!field) {
        out[key] = rendered;
        continue;
      }
      const coerced = coerce(rendered, field.type, key, m.value, (msg, node) => diags.push(errorDiag(msg, this.env.range(node))));
      if (coerced !== undefined) out[key] = coerced;
    }
    if (schema && !this.partial) fillDefaults(schema.fields, out, present, diags, this.range);
    return { value: out, diagnostics: diags };
  }

  private render(node: JsonNode, ctx: TemplateContext, dot: Record<string, JsonValue>, key: string, diags: Diagnostic[]): JsonValue | undefined {
    switch (node.kind) {
      case "string":
        return this.renderText(node, ctx, dot, key, diags);
      case "array": {
        const items: JsonValue[] = [];
        let ok = true;
        for (const it of node.items) {
          const v = this.render(it, ctx, dot, key, diags);
          if (v === undefined) ok = false;
          else items.push(v);
        }
        return ok ? items : undefined;
      }
      case "object": {
        const obj: JsonObject = {};
        let ok = true;
        for (const m of node.members.values()) {
          // Packer renders nested map keys as well as values.
          const k = this.renderText(m.key, ctx, dot, key, diags);
          const v = this.render(m.value, ctx, dot, key, diags);
          if (k === undefined || v === undefined) ok = false;
          else obj[k] = v;
        }
        return ok ? obj : undefined;
      }
      default:
        return toJsonValue(node);
    }
  }

  private renderText(node: JsonStringNode, ctx: TemplateContext, dot: Record<string, JsonValue>, key: string, diags: Diagnostic[]): string | undefined {
    if (isPlainText(node.value)) return node.value;
    try {
      return renderString(node.value, dot, ctx);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      diags.push(errorDiag(`template: ${e.message}`, this.env.errorRange(node, e), `in '${key}': ${JSON.stringify(node.value)}`));
      return undefined;
    }
  }

  private checkSyntax(node: JsonNode, key: string, diags: Diagnostic[]): void {
    if (node.kind === "string") {
      const err = checkTemplate(node.value);
      if (err) diags.push(errorDiag(`template: ${err.message}`, this.env.errorRange(node, err), `in '${key}': ${JSON.stringify(node.value)}`));
    } else if (node.kind === "array") for (const it of node.items) this.checkSyntax(it, key, diags);
    else if (node.kind === "object") for (const m of node.members.values()) this.checkSyntax(m.value, key, diags);
  }
}

function fillDefaults(fields: readonly ConfigField[], out: JsonObject, present: Set<string>, diags: Diagnostic[], range?: SourceRange): void {
  for (const f of fields) {
    if (Object.hasOwn(out, f.name)) continue;
    if (present.has(f.name) && !Object.hasOwn(out, f.name)) {
      // Set to null (Go leaves the zero value) or rejected above: only a default can fill it.
      if (f.default !== undefined) out[f.name] = structuredClone(f.default);
      continue;
    }
    if (f.default !== undefined) out[f.name] = structuredClone(f.default);
    else if (f.required) diags.push(errorDiag(`required configuration key '${f.name}' is not set`, range));
  }
}

type Report = (message: string, node: JsonNode) => void;

/** mapstructure's weak decoding of one (already rendered) value to a schema type. */
export function coerce(value: JsonValue, type: FieldType, key: string, node: JsonNode, report: Report): JsonValue | undefined {
  const itemNode = (i: number): JsonNode => (node.kind === "array" ? (node.items[i] ?? node) : node);
  switch (type) {
    case "any":
      return value;
    case "string":
      return toStr(value, key, node, report);
    case "number":
      return toNum(value, key, node, report);
    case "bool":
      return toBool(value, key, node, report);
    case "list(string)":
    case "list(number)": {
      const list = toList(value);
      const conv = type === "list(string)" ? toStr : toNum;
      const out: JsonValue[] = [];
      for (let i = 0; i < list.length; i++) {
        const v = conv(list[i] as JsonValue, `${key}[${i}]`, itemNode(i), report);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    case "map(string)":
      return toStringMap(value, key, node, report);
    case "list(map(string))": {
      const list = Array.isArray(value) ? value : [value];
      const out: JsonValue[] = [];
      for (let i = 0; i < list.length; i++) {
        const v = toStringMap(list[i] as JsonValue, `${key}[${i}]`, itemNode(i), report);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
  }
}

function describeGo(v: JsonValue): string {
  if (v === null) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  return typeof v === "number" ? "float64" : typeof v;
}

function toStr(v: JsonValue, key: string, node: JsonNode, report: Report): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return goFloatString(v);
  if (typeof v === "boolean") return v ? "1" : "0";
  report(`'${key}' expected type 'string', got unconvertible type '${describeGo(v)}'`, node);
  return undefined;
}

function toNum(v: JsonValue, key: string, node: JsonNode, report: Report): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const s = v.trim();
    if (s === "") return 0;
    const n = /^[+-]?0[xX][0-9a-fA-F]+$/.test(s) ? parseInt(s, 16) : Number(s);
    if (!Number.isNaN(n) && /^[+-]?(\d|\.\d|0[xX])/.test(s)) return n;
    report(`cannot parse '${key}' as number: ${JSON.stringify(v)} is not a number`, node);
    return undefined;
  }
  report(`'${key}' expected type 'number', got unconvertible type '${describeGo(v)}'`, node);
  return undefined;
}

function toBool(v: JsonValue, key: string, node: JsonNode, report: Report): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") {
    const b = parseGoBool(v);
    if (b !== undefined) return b;
    report(`cannot parse '${key}' as bool: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`, node);
    return undefined;
  }
  report(`'${key}' expected type 'bool', got unconvertible type '${describeGo(v)}'`, node);
  return undefined;
}

/** Packer's StringToSliceHookFunc(","): "a,b" is a list; "" is empty; a single value is a list of one. */
function toList(v: JsonValue): JsonValue[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return v === "" ? [] : v.split(",");
  return [v];
}

function toStringMap(v: JsonValue, key: string, node: JsonNode, report: Report): JsonObject | undefined {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    report(`'${key}' expected a map, got '${describeGo(v)}'`, node);
    return undefined;
  }
  const out: JsonObject = {};
  for (const [k, item] of Object.entries(v)) {
    const child = node.kind === "object" ? (node.members.get(k)?.value ?? node) : node;
    const s = toStr(item, `${key}[${k}]`, child, report);
    if (s === undefined) return undefined;
    out[k] = s;
  }
  return out;
}
