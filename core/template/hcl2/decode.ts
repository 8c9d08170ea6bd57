// Decoding a component body (source, provisioner, post-processor) for one build: evaluate every
// attribute in the build's context, check names and types against the plugin's ConfigSchema (with
// HCL's summaries and positions), render Packer's `{{ }}` functions in strings as plugins do,
// turn values into JSON and fill the schema's defaults.
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { ConversionError, conversionMessage, convert } from "../../hcl/convert.ts";
import { T } from "../../hcl/types.ts";
import { toJsonWithUnknown, V, type Value } from "../../hcl/value.ts";
import { complete, unknownKey } from "../../config/decode.ts";
import { hclIssueDiagnostic } from "../../config/messages.ts";
import type { ConfigSchema, FieldType } from "../../config/schema.ts";
import type { JsonObject, JsonValue } from "../../values/json.ts";
import { TemplateError } from "../gotemplate/errors.ts";
import { isPlainText, renderString } from "../gotemplate/render.ts";
import type { TemplateContext } from "../gotemplate/packer-funcs.ts";
import { rawContent, type Attribute, type Block, type Body, type EvalContext, type Type } from "./hcl.ts";

/** What Packer puts in a string that is not known yet (validate time): `build.*` and unknown inputs. */
export const UNKNOWN_PLACEHOLDER = "<unknown>";

export function fieldHclType(t: FieldType): Type {
  switch (t) {
    case "string":
      return T.string;
    case "number":
      return T.number;
    case "bool":
      return T.bool;
    case "list(string)":
      return T.list(T.string);
    case "list(number)":
      return T.list(T.number);
    case "map(string)":
      return T.map(T.string);
    case "list(map(string))":
      return T.list(T.map(T.string));
    case "any":
      return T.dynamic;
  }
}

/** One layer of configuration: a body (source block, inline override) or an already evaluated object. */
export type ConfigLayer = { kind: "body"; body: Body } | { kind: "value"; value: Value; range: SourceRange };

interface Item {
  name: string;
  range: SourceRange;
  nameRange: SourceRange;
  /** Evaluates the item: an attribute's expression, or blocks decoded into objects. */
  value(ctx: EvalContext, diags: Diagnostic[]): Value | undefined;
  blocks?: Block[];
}

export interface DecodeOptions {
  schema?: ConfigSchema;
  /** Only the keys that are set: no required-key errors, no defaults (overrides). */
  partial?: boolean;
  /** Context for `{{ }}` rendering; undefined = no rendering. */
  templateContext?: TemplateContext;
  /** Where "Missing required argument" points. */
  range?: SourceRange;
}

export function decodeLayers(layers: ConfigLayer[], ctx: EvalContext, opts: DecodeOptions): { value: JsonObject; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const items = collectItems(layers);
  const schema = opts.schema;
  const out: JsonObject = {};
  const present = new Set<string>();
  for (const item of items.values()) {
    const field = schema?.fields.find((f) => f.name === item.name);
    if (schema && !field && !schema.allowUnknown) {
      diags.push(hclIssueDiagnostic(unknownKey(item.name, schema), item.nameRange, item.blocks !== undefined));
      continue;
    }
    present.add(item.name);
    const before = diags.length;
    let v = item.value(ctx, diags);
    if (!v || diags.length > before) continue;
    if (v.isNull) continue;
    // A struct-like field written as one block: the block's object, not a list of one.
    if (item.blocks && field?.type === "map(string)" && v.elems.length === 1) v = v.elems[0]!;
    if (field) {
      const want = fieldHclType(field.type);
      try {
        v = convert(v, want);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        diags.push(
          errorDiag(
            item.blocks ? "Unsupported block type" : "Incorrect attribute value type",
            item.range,
            `Inappropriate value for attribute ${JSON.stringify(item.name)}: ${conversionMessage(e)}.`,
          ),
        );
        continue;
      }
    }
    let j = toJsonWithPlaceholders(v);
    if (opts.templateContext && !field?.late && !(!field && schema?.unknownLate)) {
      const rendered = renderStrings(j, opts.templateContext, item.range, diags);
      if (rendered === undefined) continue;
      j = rendered;
    }
    out[item.name] = j;
  }
  if (schema && !opts.partial) for (const issue of complete(schema, out, present)) diags.push(hclIssueDiagnostic(issue, opts.range));
  return { value: out, diagnostics: diags };
}

/** Later layers win per attribute name; a layer's blocks of one type replace earlier ones of that type. */
function collectItems(layers: ConfigLayer[]): Map<string, Item> {
  const items = new Map<string, Item>();
  for (const layer of layers) {
    if (layer.kind === "value") {
      const v = layer.value;
      if (v.isNull || !v.isKnown || (v.type.kind !== "object" && v.type.kind !== "map")) continue;
      for (const [k, e] of v.attrs) items.set(k, { name: k, range: layer.range, nameRange: layer.range, value: () => e });
      continue;
    }
    const { attributes, blocks } = rawContent(layer.body);
    for (const a of attributes) items.set(a.name, attributeItem(a));
    const byType = new Map<string, Block[]>();
    for (const b of blocks) {
      const list = byType.get(b.type) ?? [];
      list.push(b);
      byType.set(b.type, list);
    }
    for (const [type, list] of byType) items.set(type, blockItem(type, list));
  }
  return items;
}

function attributeItem(a: Attribute): Item {
  return {
    name: a.name,
    range: a.range,
    nameRange: a.nameRange,
    value(ctx, diags) {
      const r = a.expr.evaluate(ctx);
      diags.push(...r.diagnostics);
      return r.value;
    },
  };
}

/** Nested blocks (`launch_block_device_mappings { ... }`) become a list of objects. */
function blockItem(type: string, blocks: Block[]): Item {
  const first = blocks[0]!;
  return {
    name: type,
    range: first.defRange,
    nameRange: first.typeRange,
    blocks,
    value(ctx, diags) {
      const objs: Value[] = [];
      for (const b of blocks) {
        const items = collectItems([{ kind: "body", body: b.body }]);
        const attrs = new Map<string, Value>();
        for (const it of items.values()) {
          const v = it.value(ctx, diags);
          if (v) attrs.set(it.name, v);
        }
        objs.push(V.object(attrs));
      }
      return V.tuple(objs);
    },
  };
}

/**
 * Known values become JSON; unknown ones (validate time) become Packer's placeholders
 * (hcl2shim.WriteUnknownPlaceholderValues): "<unknown>" for strings, 0, false, empty collections.
 */
export function toJsonWithPlaceholders(v: Value): JsonValue {
  return toJsonWithUnknown(v, placeholderFor);
}

function placeholderFor(v: Value): JsonValue {
  switch (v.type.kind) {
    case "number":
      return 0;
    case "bool":
      return false;
    case "list":
    case "set":
    case "tuple":
      return [];
    case "map":
    case "object":
      return {};
    default:
      return UNKNOWN_PLACEHOLDER;
  }
}

function renderStrings(j: JsonValue, tctx: TemplateContext, range: SourceRange, diags: Diagnostic[]): JsonValue | undefined {
  if (typeof j === "string") {
    if (isPlainText(j)) return j;
    try {
      return renderString(j, undefined, tctx);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      diags.push(errorDiag("Failed to render template", range, e.message));
      return undefined;
    }
  }
  if (Array.isArray(j)) {
    const out: JsonValue[] = [];
    for (const e of j) {
      const r = renderStrings(e, tctx, range, diags);
      if (r === undefined) return undefined;
      out.push(r);
    }
    return out;
  }
  if (j && typeof j === "object") {
    const out: JsonObject = {};
    for (const [k, e] of Object.entries(j)) {
      const r = renderStrings(e, tctx, range, diags);
      if (r === undefined) return undefined;
      out[k] = r;
    }
    return out;
  }
  return j;
}
