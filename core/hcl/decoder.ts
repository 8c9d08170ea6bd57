// A schema-based body decoder modelled on HCL's hcldec: a Spec says which attributes (with types)
// and blocks (with nesting) to take from a body, and decoding produces one Value with positioned
// diagnostics. decodeBody() is the simple form for "attributes + blocks" schemas.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { Block, Body, BodyContent, BodySchema } from "./body.ts";
import type { EvalContext } from "./context.ts";
import { ConversionError, conversionMessage, convert } from "./convert.ts";
import { T, type Type, typeEquals } from "./types.ts";
import { V, Value } from "./value.ts";

export type Spec =
  | { kind: "object"; attrs: Record<string, Spec> }
  | { kind: "array"; items: Spec[] }
  | { kind: "attr"; name: string; type: Type; required?: boolean }
  | { kind: "block"; type: string; nested: Spec; required?: boolean }
  | { kind: "block_list" | "block_set"; type: string; nested: Spec; minItems?: number; maxItems?: number }
  | { kind: "block_map"; type: string; labels: string[]; nested: Spec }
  | { kind: "block_attrs"; type: string; elemType: Type; required?: boolean }
  | { kind: "literal"; value: Value }
  | { kind: "default"; primary: Spec; fallback: Spec };

/** The body schema a spec needs at its own level. */
export function impliedSchema(spec: Spec, into: BodySchema = { attributes: [], blocks: [] }): BodySchema {
  switch (spec.kind) {
    case "object":
      for (const s of Object.values(spec.attrs)) impliedSchema(s, into);
      break;
    case "array":
      for (const s of spec.items) impliedSchema(s, into);
      break;
    case "attr":
      into.attributes!.push({ name: spec.name, required: spec.required });
      break;
    case "block":
    case "block_list":
    case "block_set":
    case "block_attrs":
      into.blocks!.push({ type: spec.type });
      break;
    case "block_map":
      into.blocks!.push({ type: spec.type, labelNames: spec.labels });
      break;
    case "default":
      impliedSchema(spec.primary, into);
      impliedSchema(spec.fallback, into);
      break;
    case "literal":
      break;
  }
  return into;
}

/** The type a spec's result has when nothing is set. */
export function impliedType(spec: Spec): Type {
  switch (spec.kind) {
    case "object": {
      const attrs: Record<string, Type> = {};
      for (const [k, s] of Object.entries(spec.attrs)) attrs[k] = impliedType(s);
      return T.object(attrs);
    }
    case "array":
      return T.tuple(spec.items.map(impliedType));
    case "attr":
      return spec.type;
    case "block":
      return impliedType(spec.nested);
    case "block_list":
      return T.list(impliedType(spec.nested));
    case "block_set":
      return T.set(impliedType(spec.nested));
    case "block_map": {
      let t = impliedType(spec.nested);
      for (let i = 0; i < spec.labels.length; i++) t = T.map(t);
      return t;
    }
    case "block_attrs":
      return T.map(spec.elemType);
    case "literal":
      return spec.value.type;
    case "default":
      return impliedType(spec.primary);
  }
}

/** Decodes a body with a spec: takes exactly what the spec describes (anything else is an error). */
export function decodeSpec(body: Body, spec: Spec, ctx?: EvalContext): { value: Value; diagnostics: Diagnostic[] } {
  const schema = impliedSchema(spec);
  const { content, diagnostics } = body.content(schema);
  const diags = [...diagnostics];
  const value = decodeContent(content, spec, ctx, diags);
  return { value, diagnostics: diags };
}

/** Like decodeSpec, but leaves unknown items for another decoder. */
export function decodeSpecPartial(
  body: Body,
  spec: Spec,
  ctx?: EvalContext,
): { value: Value; remain: Body; diagnostics: Diagnostic[] } {
  const schema = impliedSchema(spec);
  const { content, remain, diagnostics } = body.partialContent(schema);
  const diags = [...diagnostics];
  const value = decodeContent(content, spec, ctx, diags);
  return { value, remain, diagnostics: diags };
}

function blocksOf(content: BodyContent, type: string): Block[] {
  return content.blocks.filter((b) => b.type === type);
}

function fmtRange(r: SourceRange): string {
  return `${r.filename}:${r.start.line},${r.start.column}-${r.end.column}`;
}

function decodeContent(content: BodyContent, spec: Spec, ctx: EvalContext | undefined, diags: Diagnostic[]): Value {
  switch (spec.kind) {
    case "object": {
      const m = new Map<string, Value>();
      for (const [k, s] of Object.entries(spec.attrs)) m.set(k, decodeContent(content, s, ctx, diags));
      return V.object(m);
    }
    case "array":
      return V.tuple(spec.items.map((s) => decodeContent(content, s, ctx, diags)));
    case "literal":
      return spec.value;
    case "default": {
      const v = decodeContent(content, spec.primary, ctx, diags);
      return v.isNull ? decodeContent(content, spec.fallback, ctx, diags) : v;
    }
    case "attr": {
      const a = content.attributes[spec.name];
      if (!a) return V.null(spec.type);
      const r = a.expr.evaluate(ctx);
      diags.push(...r.diagnostics);
      try {
        return convert(r.value, spec.type);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        diags.push(
          errorDiag("Incorrect attribute value type", a.expr.range, `Inappropriate value for attribute ${JSON.stringify(spec.name)}: ${conversionMessage(e)}.`),
        );
        return V.unknown(spec.type);
      }
    }
    case "block": {
      const bs = blocksOf(content, spec.type);
      if (bs.length > 1) {
        diags.push(
          errorDiag(
            `Duplicate ${spec.type} block`,
            bs[1]!.defRange,
            `Only one block of type ${JSON.stringify(spec.type)} is allowed. Previous definition was at ${fmtRange(bs[0]!.defRange)}.`,
          ),
        );
      }
      const b = bs[0];
      if (!b) {
        if (spec.required) {
          diags.push(errorDiag(`Missing ${spec.type} block`, content.missingItemRange, `A block of type ${JSON.stringify(spec.type)} is required here.`));
        }
        return V.null(impliedType(spec.nested));
      }
      const r = decodeSpec(b.body, spec.nested, ctx);
      diags.push(...r.diagnostics);
      return r.value;
    }
    case "block_list":
    case "block_set": {
      const bs = blocksOf(content, spec.type);
      if (spec.minItems !== undefined && bs.length < spec.minItems) {
        diags.push(
          errorDiag(`Insufficient ${spec.type} blocks`, content.missingItemRange, `At least ${spec.minItems} ${JSON.stringify(spec.type)} blocks are required.`),
        );
      }
      if (spec.maxItems !== undefined && bs.length > spec.maxItems) {
        diags.push(
          errorDiag(`Too many ${spec.type} blocks`, bs[spec.maxItems]!.defRange, `No more than ${spec.maxItems} ${JSON.stringify(spec.type)} blocks are allowed`),
        );
      }
      const vals = bs.map((b) => {
        const r = decodeSpec(b.body, spec.nested, ctx);
        diags.push(...r.diagnostics);
        return r.value;
      });
      const et = impliedType(spec.nested);
      if (vals.length === 0) return spec.kind === "block_list" ? V.list([], et) : V.set([], et);
      const same = vals.every((v) => typeEquals(v.type, vals[0]!.type));
      if (!same) return V.tuple(vals);
      return spec.kind === "block_list" ? V.list(vals, vals[0]!.type) : V.set(vals, vals[0]!.type);
    }
    case "block_map": {
      const bs = blocksOf(content, spec.type);
      const root = new Map<string, unknown>();
      for (const b of bs) {
        const r = decodeSpec(b.body, spec.nested, ctx);
        diags.push(...r.diagnostics);
        let m = root;
        for (let i = 0; i < spec.labels.length - 1; i++) {
          const l = b.labels[i]!;
          let next = m.get(l) as Map<string, unknown> | undefined;
          if (!next) {
            next = new Map();
            m.set(l, next);
          }
          m = next;
        }
        const last = b.labels[spec.labels.length - 1]!;
        if (m.has(last)) {
          diags.push(
            errorDiag(
              `Duplicate ${spec.type} block`,
              b.defRange,
              `A block for ${JSON.stringify(spec.type)} ${JSON.stringify(b.labels.join(" "))} was already defined. The labels must be unique.`,
            ),
          );
          continue;
        }
        m.set(last, r.value);
      }
      const build = (m: Map<string, unknown>, depth: number): Value => {
        const out = new Map<string, Value>();
        for (const [k, v] of m) out.set(k, depth === spec.labels.length - 1 ? (v as Value) : build(v as Map<string, unknown>, depth + 1));
        if (out.size === 0) {
          let t = impliedType(spec.nested);
          for (let i = depth + 1; i < spec.labels.length; i++) t = T.map(t);
          return V.map(out, t);
        }
        const vals = [...out.values()];
        const same = vals.every((v) => typeEquals(v.type, vals[0]!.type));
        return same ? V.map(out, vals[0]!.type) : V.object(out);
      };
      return build(root, 0);
    }
    case "block_attrs": {
      const bs = blocksOf(content, spec.type);
      const b = bs[0];
      if (!b) {
        if (spec.required) diags.push(errorDiag(`Missing ${spec.type} block`, content.missingItemRange, `A block of type ${JSON.stringify(spec.type)} is required here.`));
        return V.null(T.map(spec.elemType));
      }
      const { attributes, diagnostics } = b.body.justAttributes();
      diags.push(...diagnostics);
      const m = new Map<string, Value>();
      for (const [k, a] of Object.entries(attributes)) {
        const r = a.expr.evaluate(ctx);
        diags.push(...r.diagnostics);
        try {
          m.set(k, convert(r.value, spec.elemType));
        } catch (e) {
          if (!(e instanceof ConversionError)) throw e;
          diags.push(errorDiag("Invalid attribute value", a.expr.range, `Invalid value for attribute of ${JSON.stringify(spec.type)} block: ${conversionMessage(e)}.`));
        }
      }
      return V.map(m, spec.elemType);
    }
  }
}

/** A simple schema for decodeBody: attributes with types, and nested blocks. */
export interface DecodeSchema {
  attributes?: Array<{ name: string; type: Type; required?: boolean }>;
  blocks?: Array<{
    type: string;
    /** single: one optional block (null when absent); list/set: repeated; map: keyed by labels. */
    nesting: "single" | "list" | "set" | "map";
    labels?: string[];
    required?: boolean;
    schema: DecodeSchema;
  }>;
}

export function schemaToSpec(s: DecodeSchema): Spec {
  const attrs: Record<string, Spec> = {};
  for (const a of s.attributes ?? []) attrs[a.name] = { kind: "attr", name: a.name, type: a.type, required: a.required };
  for (const b of s.blocks ?? []) {
    const nested = schemaToSpec(b.schema);
    if (b.nesting === "single") attrs[b.type] = { kind: "block", type: b.type, nested, required: b.required };
    else if (b.nesting === "map") attrs[b.type] = { kind: "block_map", type: b.type, labels: b.labels ?? ["name"], nested };
    else attrs[b.type] = { kind: b.nesting === "list" ? "block_list" : "block_set", type: b.type, nested, minItems: b.required ? 1 : undefined };
  }
  return { kind: "object", attrs };
}

/** Decodes a body into an object value according to the schema. */
export function decodeBody(body: Body, schema: DecodeSchema, ctx?: EvalContext): { value: Value; diagnostics: Diagnostic[] } {
  return decodeSpec(body, schemaToSpec(schema), ctx);
}
