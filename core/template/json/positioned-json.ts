// A JSON parser that keeps where every value and key came from. JSON.parse gives no positions, and a
// template error has to point at a line and column. Syntax errors use the wording and byte offsets of
// Go's encoding/json, because Packer prints those (with a caret excerpt, see syntax-error.ts).
import type { JsonValue } from "../../values/json.ts";
import { LIMITS } from "../../values/limits.ts";
import type { SourceFile } from "../../source/source-file.ts";

interface NodeBase {
  /** UTF-16 offsets into the source text, [start, end). */
  start: number;
  end: number;
}
export interface JsonStringNode extends NodeBase {
  kind: "string";
  value: string;
  /** The literal contains backslash escapes, so value offsets and source offsets differ. */
  escaped: boolean;
}
export interface JsonNumberNode extends NodeBase {
  kind: "number";
  value: number;
}
export interface JsonBoolNode extends NodeBase {
  kind: "bool";
  value: boolean;
}
export interface JsonNullNode extends NodeBase {
  kind: "null";
}
export interface JsonArrayNode extends NodeBase {
  kind: "array";
  items: JsonNode[];
}
export interface JsonMember {
  key: JsonStringNode;
  value: JsonNode;
}
export interface JsonObjectNode extends NodeBase {
  kind: "object";
  /** Last occurrence wins (as in Go); iteration order is the first occurrence's. */
  members: Map<string, JsonMember>;
  /** Every later occurrence of a key already seen, in source order. */
  duplicates: JsonMember[];
}
export type JsonNode = JsonStringNode | JsonNumberNode | JsonBoolNode | JsonNullNode | JsonArrayNode | JsonObjectNode;

export interface JsonSyntaxError {
  /** Go's message, e.g. "invalid character '}' looking for beginning of object key string". */
  message: string;
  /** UTF-16 offset of the offending character (text length at end of input). */
  offset: number;
}

export type JsonParseResult = { ok: true; node: JsonNode } | { ok: false; error: JsonSyntaxError };

class SyntaxFailure {
  constructor(readonly error: JsonSyntaxError) {}
}

/** Go's quoteChar: how encoding/json names an unexpected character. */
function quoteChar(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '"') return "'\"'";
  const q = JSON.stringify(ch);
  return `'${q.slice(1, -1)}'`;
}

const WS = new Set([" ", "\t", "\r", "\n"]);

export function parseJson(src: SourceFile): JsonParseResult {
  const p = new Parser(src.text);
  try {
    p.skipWs();
    const node = p.value();
    p.skipWs();
    if (p.i < p.s.length) p.fail("after top-level value");
    return { ok: true, node };
  } catch (e) {
    if (e instanceof SyntaxFailure) return { ok: false, error: e.error };
    throw e;
  }
}

class Parser {
  i = 0;
  /** Arrays and objects open around the current position (LIMITS.maxNesting bounds it; Go stops at 10000). */
  private depth = 0;
  constructor(readonly s: string) {}

  skipWs(): void {
    const s = this.s;
    while (this.i < s.length && WS.has(s[this.i] as string)) this.i++;
  }

  fail(context: string): never {
    if (this.i >= this.s.length) throw new SyntaxFailure({ message: "unexpected end of JSON input", offset: this.s.length });
    const cp = this.s.codePointAt(this.i) ?? 0;
    throw new SyntaxFailure({ message: `invalid character ${quoteChar(String.fromCodePoint(cp))} ${context}`, offset: this.i });
  }

  value(): JsonNode {
    const c = this.s[this.i];
    switch (c) {
      case "{":
        return this.object();
      case "[":
        return this.array();
      case '"':
        return this.string();
      case "t":
        return this.literal("true", { kind: "bool", value: true, start: this.i, end: 0 });
      case "f":
        return this.literal("false", { kind: "bool", value: false, start: this.i, end: 0 });
      case "n":
        return this.literal("null", { kind: "null", start: this.i, end: 0 });
      default:
        if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
        return this.fail("looking for beginning of value");
    }
  }

  literal<T extends JsonNode>(word: string, node: T): T {
    for (let k = 1; k < word.length; k++) {
      this.i++;
      if (this.s[this.i] !== word[k]) this.fail(`in literal ${word} (expecting '${word[k]}')`);
    }
    this.i++;
    node.end = this.i;
    return node;
  }

  number(): JsonNumberNode {
    const s = this.s;
    const start = this.i;
    const digit = (ch: string | undefined) => ch !== undefined && ch >= "0" && ch <= "9";
    if (s[this.i] === "-") {
      this.i++;
      if (!digit(s[this.i])) this.fail("in numeric literal");
    }
    if (s[this.i] === "0") this.i++;
    else while (digit(s[this.i])) this.i++;
    if (s[this.i] === ".") {
      this.i++;
      if (!digit(s[this.i])) this.fail("after decimal point in numeric literal");
      while (digit(s[this.i])) this.i++;
    }
    if (s[this.i] === "e" || s[this.i] === "E") {
      this.i++;
      if (s[this.i] === "+" || s[this.i] === "-") this.i++;
      if (!digit(s[this.i])) this.fail("in exponent of numeric literal");
      while (digit(s[this.i])) this.i++;
    }
    return { kind: "number", value: Number(s.slice(start, this.i)), start, end: this.i };
  }

  string(): JsonStringNode {
    const s = this.s;
    const start = this.i;
    this.i++; // opening quote
    let out = "";
    let chunkStart = this.i;
    let escaped = false;
    for (;;) {
      if (this.i >= s.length) this.fail("in string literal");
      const code = s.charCodeAt(this.i);
      if (code === 0x22) break;
      if (code < 0x20) this.fail("in string literal");
      if (code !== 0x5c) {
        this.i++;
        continue;
      }
      escaped = true;
      out += s.slice(chunkStart, this.i);
      this.i++;
      const e = s[this.i];
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          let v = 0;
          for (let k = 0; k < 4; k++) {
            this.i++;
            const h = s[this.i];
            const d = h === undefined ? NaN : parseInt(h, 16);
            if (Number.isNaN(d)) this.fail("in \\u hexadecimal character escape");
            v = v * 16 + d;
          }
          out += String.fromCharCode(v);
          break;
        }
        default:
          this.fail("in string escape code");
      }
      this.i++;
      chunkStart = this.i;
    }
    out += s.slice(chunkStart, this.i);
    this.i++; // closing quote
    return { kind: "string", value: out, escaped, start, end: this.i };
  }

  /** Entering an array or object: refuse one level past the limit, at its opening bracket. */
  private enter(): void {
    if (++this.depth > LIMITS.maxNesting) {
      throw new SyntaxFailure({ message: `exceeded max depth: nested more than ${LIMITS.maxNesting} levels deep`, offset: this.i });
    }
  }

  array(): JsonArrayNode {
    const start = this.i;
    this.enter();
    this.i++;
    const items: JsonNode[] = [];
    this.skipWs();
    if (this.s[this.i] === "]") {
      this.i++;
      this.depth--;
      return { kind: "array", items, start, end: this.i };
    }
    for (;;) {
      this.skipWs();
      items.push(this.value());
      this.skipWs();
      const c = this.s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === "]") {
        this.i++;
        this.depth--;
        return { kind: "array", items, start, end: this.i };
      }
      this.fail("after array element");
    }
  }

  object(): JsonObjectNode {
    const start = this.i;
    this.enter();
    this.i++;
    const members = new Map<string, JsonMember>();
    const duplicates: JsonMember[] = [];
    this.skipWs();
    if (this.s[this.i] === "}") {
      this.i++;
      this.depth--;
      return { kind: "object", members, duplicates, start, end: this.i };
    }
    for (;;) {
      this.skipWs();
      if (this.s[this.i] !== '"') this.fail("looking for beginning of object key string");
      const key = this.string();
      this.skipWs();
      if (this.s[this.i] !== ":") this.fail("after object key");
      this.i++;
      this.skipWs();
      const value = this.value();
      const member: JsonMember = { key, value };
      if (members.has(key.value)) duplicates.push(member);
      members.set(key.value, member);
      this.skipWs();
      const c = this.s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === "}") {
        this.i++;
        this.depth--;
        return { kind: "object", members, duplicates, start, end: this.i };
      }
      this.fail("after object key:value pair");
    }
  }
}

/** The plain value of a node (positions dropped). */
export function toJsonValue(node: JsonNode): JsonValue {
  switch (node.kind) {
    case "string":
    case "number":
    case "bool":
      return node.value;
    case "null":
      return null;
    case "array":
      return node.items.map(toJsonValue);
    case "object": {
      const out: { [k: string]: JsonValue } = {};
      for (const [k, m] of node.members) out[k] = toJsonValue(m.value);
      return out;
    }
  }
}

/** Duplicated keys reported one by one; past this many, the rest are counted in one diagnostic. */
export const MAX_DUPLICATES_REPORTED = 100;

/** Every duplicated key anywhere under node (objects first to last, outer before inner). */
export function collectDuplicates(node: JsonNode, into: JsonMember[] = []): JsonMember[] {
  if (node.kind === "array") for (const it of node.items) collectDuplicates(it, into);
  else if (node.kind === "object") {
    for (const d of node.duplicates) into.push(d);
    for (const m of node.members.values()) collectDuplicates(m.value, into);
  }
  return into;
}

/** The first MAX_DUPLICATES_REPORTED duplicated keys, and how many more there are. */
export function reportedDuplicates(node: JsonNode): { shown: JsonMember[]; more: number } {
  const all = collectDuplicates(node);
  return { shown: all.slice(0, MAX_DUPLICATES_REPORTED), more: Math.max(0, all.length - MAX_DUPLICATES_REPORTED) };
}

/**
 * The UTF-16 source offset of character `index` of a string node's decoded value. Escapes make
 * the two differ; positions inside a template string (a `{{ }}` error) need the source one.
 */
export function stringValueOffset(text: string, node: JsonStringNode, index: number): number {
  if (!node.escaped) return node.start + 1 + index;
  let src = node.start + 1;
  let decoded = 0;
  while (decoded < index && src < node.end - 1) {
    if (text[src] === "\\") src += text[src + 1] === "u" ? 6 : 2;
    else src++;
    decoded++;
  }
  return src;
}
