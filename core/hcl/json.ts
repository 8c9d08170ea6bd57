// HCL's JSON syntax (json/spec.md), used by .pkr.json: JSON read by the one positioned scanner
// (core/source/positioned-json.ts; its errors worded here as HCL words them) and the Body /
// Expression API over it. Strings are templates when evaluated with a context; property names map
// to attributes or blocks depending on the schema the caller asks with.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { Node, Traversal } from "./ast.ts";
import {
  checkBlockLabels,
  extraneousDiagnostics,
  missingRequiredArgument,
  NativeExpression,
  type Attribute,
  type Block,
  type Body,
  type BodyContent,
  type BodySchema,
  type EvalResult,
  type Expression,
} from "./body.ts";
import type { EvalContext } from "./context.ts";
import { Num } from "./num.ts";
import { parseExpressionNode, parseTemplateNode } from "./parser.ts";
import { parseJson, type JsonFailurePoint, type JsonNode } from "../source/positioned-json.ts";
import { SourceFile, unionRange } from "../source/source-file.ts";
import { V, Value } from "./value.ts";
import type { HclFile } from "./parse.ts";

export type JNode =
  | { kind: "object"; props: JProp[]; range: SourceRange; openRange: SourceRange; closeRange: SourceRange }
  | { kind: "array"; items: JNode[]; range: SourceRange; openRange: SourceRange }
  | { kind: "string"; value: string; range: SourceRange }
  | { kind: "number"; text: string; range: SourceRange }
  | { kind: "bool"; value: boolean; range: SourceRange }
  | { kind: "null"; range: SourceRange };

export interface JProp {
  name: string;
  nameRange: SourceRange;
  value: JNode;
}

class JsonParseError extends Error {
  constructor(
    readonly summary: string,
    readonly at: number,
    readonly detail: string,
  ) {
    super(summary);
  }
}

/** Parses a JSON-syntax HCL file. */
export function parseHclJson(src: string, filename: string): { file: HclFile; diagnostics: Diagnostic[] } {
  const file = new SourceFile(filename, src, { columns: "grapheme" });
  const r = scanHclJson(file);
  if ("error" in r) {
    const { summary, at, detail } = r.error;
    return {
      file: { filename, body: new JsonBody(emptyObject(file)) },
      diagnostics: [errorDiag(summary, file.range(at, Math.min(src.length, at + 1)), detail)],
    };
  }
  const root = r.node;
  if (root.kind === "array" && root.items.length > 0 && root.items.every((i) => i.kind === "object")) {
    // A body may also be an array of objects, visited in order (json/spec.md).
    const objs = root.items as Array<Extract<JNode, { kind: "object" }>>;
    const merged: Extract<JNode, { kind: "object" }> = {
      kind: "object",
      props: objs.flatMap((o) => o.props),
      range: root.range,
      openRange: root.openRange,
      closeRange: objs[objs.length - 1]!.closeRange,
    };
    return { file: { filename, body: new JsonBody(merged) }, diagnostics: [] };
  }
  if (root.kind !== "object") {
    return {
      file: { filename, body: new JsonBody(emptyObject(file)) },
      diagnostics: [errorDiag("Root value must be object", root.range, "The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.")],
    };
  }
  return { file: { filename, body: new JsonBody(root) }, diagnostics: [] };
}

function emptyObject(file: SourceFile): Extract<JNode, { kind: "object" }> {
  const r = file.range(0, 0);
  return { kind: "object", props: [], range: r, openRange: r, closeRange: r };
}

/** A syntax error in HCL's words, at a UTF-16 offset. */
interface HclJsonError {
  summary: string;
  at: number;
  detail: string;
}

/** Reads JSON with the one positioned scanner, then gives every node its source ranges. */
function scanHclJson(file: SourceFile): { node: JNode } | { error: HclJsonError } {
  const r = parseJson(file);
  if (!r.ok) return { error: hclJsonError(file.text, r.error.offset, r.at) };
  return { node: toJNode(r.node, file) };
}

/** HCL's wording of a scanner failure (the scanner's own is Go's, which legacy templates show). */
function hclJsonError(text: string, offset: number, at: JsonFailurePoint): HclJsonError {
  switch (at.context) {
    case "depth":
      return { summary: "Nesting too deep", at: offset, detail: "The JSON value is nested too deeply." };
    case "looking for beginning of value":
      if (offset >= text.length) return { summary: "Missing JSON value", at: offset, detail: "A JSON value must start here." };
      return { summary: "Invalid JSON value", at: at.valueStart, detail: INVALID_VALUE };
    case "in literal":
    case "in numeric literal":
    case "after decimal point in numeric literal":
    case "in exponent of numeric literal":
      return { summary: "Invalid JSON value", at: at.valueStart, detail: INVALID_VALUE };
    case "in string literal":
      if (offset >= text.length || text[offset] === "\n") {
        return { summary: "Unterminated string", at: at.valueStart, detail: "A JSON string must end with a closing quote on the same line." };
      }
      return { summary: "Invalid character in string", at: offset, detail: "Control characters must be escaped in JSON strings." };
    case "in \\u hexadecimal character escape":
      return { summary: "Invalid escape sequence", at: at.escapeStart ?? offset, detail: "\\u must be followed by four hexadecimal digits." };
    case "in string escape code":
      return {
        summary: "Invalid escape sequence",
        at: at.escapeStart ?? offset,
        detail: `The escape sequence \\${text[offset] ?? ""} is not valid in JSON.`,
      };
    case "after top-level value":
      return { summary: "Extraneous data after value", at: offset, detail: "Extra characters appear after the JSON value." };
    case "after array element":
      return { summary: "Missing array element separator comma", at: offset, detail: "A comma must appear between each element of an array." };
    case "looking for beginning of object key string":
      return { summary: "Invalid object property name", at: offset, detail: "A JSON object property name must be a quoted string." };
    case "after object key":
      return { summary: "Missing property value colon", at: offset, detail: "JSON object properties must have a colon between the name and value." };
    case "after object key:value pair":
      return { summary: "Missing attribute seperator comma", at: offset, detail: "A comma must appear between each property definition in an object." };
  }
}

const INVALID_VALUE = "Expected a JSON value (object, array, string, number, true, false or null).";

function toJNode(n: JsonNode, file: SourceFile): JNode {
  const range = file.range(n.start, n.end);
  switch (n.kind) {
    case "string":
      return { kind: "string", value: n.value, range };
    case "number":
      return { kind: "number", text: file.text.slice(n.start, n.end), range };
    case "bool":
      return { kind: "bool", value: n.value, range };
    case "null":
      return { kind: "null", range };
    case "array":
      return { kind: "array", items: n.items.map((i) => toJNode(i, file)), range, openRange: file.range(n.start, n.start + 1) };
    case "object":
      return {
        kind: "object",
        props: n.entries.map((m) => ({ name: m.key.value, nameRange: file.range(m.key.start, m.key.end), value: toJNode(m.value, file) })),
        range,
        openRange: file.range(n.start, n.start + 1),
        closeRange: file.range(n.end - 1, n.end),
      };
  }
}

/** Start of a string's content (after the opening quote), for template positions. */
function contentBase(r: SourceRange): { line: number; column: number; byte: number } {
  return { line: r.start.line, column: r.start.column + 1, byte: r.start.byte + 1 };
}

export class JsonExpression implements Expression {
  constructor(readonly node: JNode) {}
  get range(): SourceRange {
    return this.node.range;
  }

  evaluate(ctx?: EvalContext): EvalResult {
    const diags: Diagnostic[] = [];
    const value = this.eval(this.node, ctx, diags);
    return { value, diagnostics: diags };
  }

  private eval(n: JNode, ctx: EvalContext | undefined, diags: Diagnostic[]): Value {
    switch (n.kind) {
      case "string": {
        if (!ctx) return V.string(n.value);
        const t = parseTemplateNode(n.value, n.range.filename, contentBase(n.range));
        diags.push(...t.diagnostics);
        if (t.diagnostics.length) return V.unknown();
        const r = new NativeExpression(t.node).evaluate(ctx);
        diags.push(...r.diagnostics);
        return r.value;
      }
      case "number":
        return V.number(Num.parse(n.text) ?? Num.ZERO);
      case "bool":
        return V.bool(n.value);
      case "null":
        return V.null();
      case "array":
        return V.tuple(n.items.map((i) => this.eval(i, ctx, diags)));
      case "object": {
        const m = new Map<string, Value>();
        for (const p of n.props) {
          let key = p.name;
          if (ctx) {
            const kn: JNode = { kind: "string", value: p.name, range: p.nameRange };
            const kv = this.eval(kn, ctx, diags);
            if (kv.isNull || !kv.isKnown || kv.type.kind !== "string") {
              if (kv.isKnown) diags.push(errorDiag("Invalid object key expression", p.nameRange, "Object keys must be strings."));
              continue;
            }
            key = kv.str;
          }
          if (m.has(key)) {
            diags.push(errorDiag("Duplicate object attribute", p.nameRange, `An attribute named ${JSON.stringify(key)} was already defined.`));
          }
          m.set(key, this.eval(p.value, ctx, diags));
        }
        return V.object(m);
      }
    }
  }

  variables(): Traversal[] {
    const out: Traversal[] = [];
    const walk = (n: JNode) => {
      if (n.kind === "string") {
        const t = parseTemplateNode(n.value, n.range.filename, contentBase(n.range));
        if (t.diagnostics.length === 0) out.push(...new NativeExpression(t.node).variables());
      } else if (n.kind === "array") n.items.forEach(walk);
      else if (n.kind === "object")
        for (const p of n.props) {
          walk({ kind: "string", value: p.name, range: p.nameRange });
          walk(p.value);
        }
    };
    walk(this.node);
    return out;
  }

  /** The string re-read as a native expression (for traversals and type expressions). */
  nativeNode(): Node | undefined {
    if (this.node.kind !== "string") return undefined;
    const r = parseExpressionNode(this.node.value, this.node.range.filename, contentBase(this.node.range));
    return r.diagnostics.length ? undefined : r.node;
  }

  asTraversal(): Traversal | undefined {
    const n = this.nativeNode();
    return n?.kind === "scopeTraversal" ? n.traversal : undefined;
  }
  asList(): Expression[] | undefined {
    return this.node.kind === "array" ? this.node.items.map((i) => new JsonExpression(i)) : undefined;
  }
  asMap(): Array<{ key: Expression; value: Expression }> | undefined {
    if (this.node.kind !== "object") return undefined;
    return this.node.props.map((p) => ({
      key: new JsonExpression({ kind: "string", value: p.name, range: p.nameRange }),
      value: new JsonExpression(p.value),
    }));
  }
  asKeyword(): string | undefined {
    const t = this.asTraversal();
    return t && t.steps.length === 0 ? t.root : undefined;
  }
}

/** A JSON object as an HCL body. */
export class JsonBody implements Body {
  constructor(
    readonly obj: Extract<JNode, { kind: "object" }>,
    private readonly hidden: ReadonlySet<string> = new Set(),
  ) {}

  get range(): SourceRange {
    return this.obj.range;
  }
  missingItemRange(): SourceRange {
    return this.obj.openRange;
  }

  private visibleProps(): JProp[] {
    return this.obj.props.filter((p) => p.name !== "//" && !this.hidden.has(p.name));
  }

  partialContent(schema: BodySchema): { content: BodyContent; remain: Body; diagnostics: Diagnostic[] } {
    const diags: Diagnostic[] = [];
    const attributes: Record<string, Attribute> = {};
    const blocks: Block[] = [];
    const hidden = new Set(this.hidden);
    const props = this.visibleProps();
    for (const s of schema.attributes ?? []) {
      const ps = props.filter((p) => p.name === s.name);
      if (ps.length === 0) {
        if (s.required) {
          diags.push(missingRequiredArgument(s.name, this.missingItemRange()));
        }
        continue;
      }
      const p = ps[0]!;
      for (const dup of ps.slice(1)) {
        diags.push(
          errorDiag(
            "Duplicate argument",
            dup.nameRange,
            `The argument ${JSON.stringify(s.name)} was already set at ${p.nameRange.filename}:${p.nameRange.start.line},${p.nameRange.start.column}-${p.nameRange.end.column}.`,
          ),
        );
      }
      attributes[s.name] = { name: s.name, expr: new JsonExpression(p.value), range: unionRange(p.nameRange, p.value.range), nameRange: p.nameRange };
      hidden.add(s.name);
    }
    for (const s of schema.blocks ?? []) {
      for (const p of props.filter((x) => x.name === s.type)) {
        this.collectBlocks(p, s.labelNames ?? [], [], [], p.value, blocks, diags);
      }
      hidden.add(s.type);
    }
    const valid: Block[] = [];
    for (const b of blocks) {
      const s = (schema.blocks ?? []).find((x) => x.type === b.type)!;
      if (checkBlockLabels(b, s, b.defRange, diags)) valid.push(b);
    }
    return {
      content: { attributes, blocks: valid, missingItemRange: this.missingItemRange() },
      remain: new JsonBody(this.obj, hidden),
      diagnostics: diags,
    };
  }

  /** Walks label levels (objects keyed by label, or arrays of those) down to block bodies. */
  private collectBlocks(p: JProp, labelNames: string[], labels: string[], labelRanges: SourceRange[], v: JNode, out: Block[], diags: Diagnostic[]): void {
    if (v.kind === "array") {
      for (const item of v.items) this.collectBlocks(p, labelNames, labels, labelRanges, item, out, diags);
      return;
    }
    if (v.kind !== "object") {
      if (v.kind === "null") return;
      diags.push(
        errorDiag(
          "Incorrect JSON value type",
          v.range,
          labels.length < labelNames.length
            ? `A JSON object is required here, whose keys represent the ${labelNames[labels.length]} block label.`
            : "A JSON object is required here, setting the arguments for this block.",
        ),
      );
      return;
    }
    if (labels.length < labelNames.length) {
      for (const lp of v.props) {
        this.collectBlocks(p, labelNames, [...labels, lp.name], [...labelRanges, lp.nameRange], lp.value, out, diags);
      }
      return;
    }
    out.push({
      type: p.name,
      labels,
      labelRanges,
      typeRange: p.nameRange,
      defRange: p.nameRange,
      body: new JsonBody(v),
    });
  }

  content(schema: BodySchema): { content: BodyContent; diagnostics: Diagnostic[] } {
    const r = this.partialContent(schema);
    const remain = r.remain as JsonBody;
    const diags = [...r.diagnostics];
    for (const p of remain.visibleProps()) {
      const known = [...(schema.attributes ?? []).map((a) => a.name), ...(schema.blocks ?? []).map((b) => b.type)];
      const extra = extraneousDiagnostics([{ name: p.name, expr: new JsonExpression(p.value), range: p.nameRange, nameRange: p.nameRange }], [], { attributes: known.map((name) => ({ name })) }, {});
      const d = extra[0]!;
      diags.push(errorDiag("Extraneous JSON object property", p.nameRange, `No argument or block type is named ${JSON.stringify(p.name)}.${d.detail?.includes("Did you mean") ? d.detail.slice(d.detail.indexOf(" Did you mean")) : ""}`));
    }
    return { content: r.content, diagnostics: diags };
  }

  justAttributes(): { attributes: Record<string, Attribute>; diagnostics: Diagnostic[] } {
    const diags: Diagnostic[] = [];
    const attributes: Record<string, Attribute> = {};
    for (const p of this.visibleProps()) {
      if (attributes[p.name]) {
        diags.push(errorDiag("Duplicate argument", p.nameRange, `The argument ${JSON.stringify(p.name)} was already set.`));
        continue;
      }
      attributes[p.name] = { name: p.name, expr: new JsonExpression(p.value), range: unionRange(p.nameRange, p.value.range), nameRange: p.nameRange };
    }
    return { attributes, diagnostics: diags };
  }
}

/** Parses plain JSON text into positioned nodes (used by jsondecode). */
export function parseJsonNode(src: string, filename: string): { node?: JNode; error?: string } {
  const r = scanHclJson(new SourceFile(filename, src, { columns: "grapheme" }));
  if (!("error" in r)) return { node: r.node };
  // jsondecode's messages have always said "JSON" here, where a .pkr.json diagnostic does not.
  const summary = r.error.summary === "Extraneous data after value" ? "extraneous data after JSON value" : r.error.summary.toLowerCase();
  return { error: `${summary} at offset ${r.error.at}` };
}
