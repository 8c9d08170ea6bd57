// ConfigBody for a legacy JSON component: on decode, every string (nested ones and nested map keys
// too) is rendered with the template context of one build, except keys the schema marks `late`, which
// the plugin renders itself. With a schema, keys are checked (unknown key, type) the way Packer's
// mapstructure decoding does it — weakly: "true" is a bool, "5" a number, "a,b" a list — and every
// problem points at the key or value in the template file.
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { complete, convert, isCommonKey, unknownKey, type IssuePath } from "../../config/decode.ts";
import { issueDiagnostic } from "../../config/messages.ts";
import type { ConfigSchema } from "../../config/schema.ts";
import type { JsonObject, JsonValue } from "../../values/json.ts";
import { TemplateError } from "../gotemplate/errors.ts";
import { checkTemplate, isPlainText, renderString } from "../gotemplate/render.ts";
import { contextForBuild } from "../gotemplate/build-context.ts";
import type { TemplateContext } from "../gotemplate/packer-funcs.ts";
import type { BuildContextValues, ConfigBody } from "../model.ts";
import { stringValueOffset, toJsonValue, type JsonMember, type JsonNode, type JsonStringNode } from "./positioned-json.ts";
import type { SourceFile } from "../../source/source-file.ts";

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
      if (schema && !field && !schema.allowUnknown && !isCommonKey(key)) {
        diags.push(issueDiagnostic(unknownKey(key, schema), { range: this.env.range(m.key) }));
        continue;
      }
      if (field?.late || (!field && schema?.unknownLate)) {
        this.checkSyntax(m.value, key, diags);
        out[key] = toJsonValue(m.value);
        continue;
      }
      const rendered = this.render(m.value, ctx, dot, key, diags);
      // null leaves the key unset (Go's zero value): a default or "required" applies.
      if (rendered === null) present.delete(key);
      if (rendered === undefined || rendered === null) continue;
      if (!field) {
        out[key] = rendered;
        continue;
      }
      const c = convert(field.type, rendered, [key]);
      if (c.ok) out[key] = c.value;
      else diags.push(issueDiagnostic(c.issue, { range: this.env.range(nodeAt(m.value, c.issue.path)) }));
    }
    if (schema && !this.partial) {
      for (const issue of complete(schema, out, present)) diags.push(issueDiagnostic(issue, this.range ? { range: this.range } : {}));
    }
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

/** The node of a nested value an issue names (`[key, 0]`: the list's first element), else the closest one. */
function nodeAt(node: JsonNode, path: IssuePath): JsonNode {
  let n = node;
  for (const step of path.slice(1)) {
    if (n.kind === "array" && typeof step === "number") n = n.items[step] ?? n;
    else if (n.kind === "object" && typeof step === "string") n = n.members.get(step)?.value ?? n;
    else break;
  }
  return n;
}
