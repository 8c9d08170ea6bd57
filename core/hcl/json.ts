// HCL's JSON syntax (json/spec.md), used by .pkr.json: a positioned JSON parser and the Body /
// Expression API over it. Strings are templates when evaluated with a context; property names
// map to attributes or blocks depending on the schema the caller asks with.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import { LIMITS } from "../values/limits.ts";
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
import { SourceFile, unionRange } from "./source.ts";
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
  const file = new SourceFile(filename, src);
  const p = new JsonParser(src, file);
  try {
    p.ws();
    const root = p.value(0);
    p.ws();
    if (p.i < src.length) throw new JsonParseError("Extraneous data after value", p.i, "Extra characters appear after the JSON value.");
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
  } catch (e) {
    if (!(e instanceof JsonParseError)) throw e;
    return {
      file: { filename, body: new JsonBody(emptyObject(file)) },
      diagnostics: [errorDiag(e.summary, file.range(e.at, Math.min(src.length, e.at + 1)), e.detail)],
    };
  }
}

function emptyObject(file: SourceFile): Extract<JNode, { kind: "object" }> {
  const r = file.range(0, 0);
  return { kind: "object", props: [], range: r, openRange: r, closeRange: r };
}

const MAX_DEPTH = LIMITS.maxNesting;

class JsonParser {
  i = 0;
  constructor(
    private readonly s: string,
    private readonly file: SourceFile,
  ) {}

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") this.i++;
      else break;
    }
  }

  value(depth: number): JNode {
    if (depth > MAX_DEPTH) throw new JsonParseError("Nesting too deep", this.i, "The JSON value is nested too deeply.");
    const s = this.s;
    const start = this.i;
    const c = s[start];
    if (c === undefined) throw new JsonParseError("Missing JSON value", start, "A JSON value must start here.");
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') {
      const v = this.string();
      return { kind: "string", value: v, range: this.file.range(start, this.i) };
    }
    const num = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    num.lastIndex = start;
    const m = num.exec(s);
    if (m && m[0].length > 0 && m[0] !== "-") {
      this.i = start + m[0].length;
      return { kind: "number", text: m[0], range: this.file.range(start, this.i) };
    }
    for (const [kw, node] of [
      ["true", { kind: "bool", value: true }],
      ["false", { kind: "bool", value: false }],
      ["null", { kind: "null" }],
    ] as const) {
      if (s.startsWith(kw, start)) {
        this.i = start + kw.length;
        return { ...node, range: this.file.range(start, this.i) } as JNode;
      }
    }
    throw new JsonParseError("Invalid JSON value", start, "Expected a JSON value (object, array, string, number, true, false or null).");
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    this.i++;
    let out = "";
    for (;;) {
      const c = s[this.i];
      if (c === undefined || c === "\n") throw new JsonParseError("Unterminated string", start, "A JSON string must end with a closing quote on the same line.");
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === "\\") {
        const e = s[this.i + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.i += 2;
          continue;
        }
        if (e === "u") {
          const hex = s.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonParseError("Invalid escape sequence", this.i, "\\u must be followed by four hexadecimal digits.");
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 6;
          continue;
        }
        throw new JsonParseError("Invalid escape sequence", this.i, `The escape sequence \\${e ?? ""} is not valid in JSON.`);
      }
      if (c.charCodeAt(0) < 0x20) throw new JsonParseError("Invalid character in string", this.i, "Control characters must be escaped in JSON strings.");
      out += c;
      this.i++;
    }
  }

  private object(depth: number): JNode {
    const start = this.i;
    this.i++;
    const props: JProp[] = [];
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return { kind: "object", props, range: this.file.range(start, this.i), openRange: this.file.range(start, start + 1), closeRange: this.file.range(this.i - 1, this.i) };
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw new JsonParseError("Invalid object property name", this.i, "A JSON object property name must be a quoted string.");
      const ns = this.i;
      const name = this.string();
      const nameRange = this.file.range(ns, this.i);
      this.ws();
      if (this.s[this.i] !== ":") throw new JsonParseError("Missing property value colon", this.i, "JSON object properties must have a colon between the name and value.");
      this.i++;
      this.ws();
      const value = this.value(depth + 1);
      props.push({ name, nameRange, value });
      this.ws();
      const c = this.s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === "}") {
        this.i++;
        return { kind: "object", props, range: this.file.range(start, this.i), openRange: this.file.range(start, start + 1), closeRange: this.file.range(this.i - 1, this.i) };
      }
      throw new JsonParseError("Missing attribute seperator comma", this.i, "A comma must appear between each property definition in an object.");
    }
  }

  private array(depth: number): JNode {
    const start = this.i;
    this.i++;
    const items: JNode[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return { kind: "array", items, range: this.file.range(start, this.i), openRange: this.file.range(start, start + 1) };
    }
    for (;;) {
      this.ws();
      items.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === "]") {
        this.i++;
        return { kind: "array", items, range: this.file.range(start, this.i), openRange: this.file.range(start, start + 1) };
      }
      throw new JsonParseError("Missing array element separator comma", this.i, "A comma must appear between each element of an array.");
    }
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
  const file = new SourceFile(filename, src);
  const p = new JsonParser(src, file);
  try {
    p.ws();
    const node = p.value(0);
    p.ws();
    if (p.i < src.length) return { error: `extraneous data after JSON value at offset ${p.i}` };
    return { node };
  } catch (e) {
    if (!(e instanceof JsonParseError)) throw e;
    return { error: `${e.summary.toLowerCase()} at offset ${e.at}` };
  }
}
