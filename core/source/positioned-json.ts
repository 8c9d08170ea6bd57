// The one positioned JSON scanner, for legacy JSON templates and var files (core/template/json/) and
// for HCL's JSON syntax and jsondecode (core/hcl/json.ts). JSON.parse gives no positions, and an error
// has to point at a line and column. It follows Go's encoding/json: the grammar, the duplicate-key rule
// (last wins) and, for syntax errors, Go's wording and offsets, because Packer prints those. A failure
// also says what was being read (`context`) and where that began, so HCL can word it its own way.
import { LIMITS } from "../values/limits.ts";
import type { SourceFile } from "./source-file.ts";

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
  /** Every member, duplicates included, in source order (HCL's JSON bodies need them all). */
  entries: JsonMember[];
}
export type JsonNode = JsonStringNode | JsonNumberNode | JsonBoolNode | JsonNullNode | JsonArrayNode | JsonObjectNode;

/** What the scanner was reading when it failed: Go's phrase for it, or "depth" past LIMITS.maxNesting. */
export type JsonScanContext =
  | "looking for beginning of value"
  | "after top-level value"
  | "in literal"
  | "in numeric literal"
  | "after decimal point in numeric literal"
  | "in exponent of numeric literal"
  | "in string literal"
  | "in \\u hexadecimal character escape"
  | "in string escape code"
  | "after array element"
  | "looking for beginning of object key string"
  | "after object key"
  | "after object key:value pair"
  | "depth";

export interface JsonSyntaxError {
  /** Go's message, e.g. "invalid character '}' looking for beginning of object key string". */
  message: string;
  /** UTF-16 offset of the offending character (text length at end of input). */
  offset: number;
}

/** What the scanner was doing when it failed, for callers that word errors their own way. */
export interface JsonFailurePoint {
  context: JsonScanContext;
  /** Where the value (literal, number, string or key) being read began. */
  valueStart: number;
  /** In an escape error, the offset of its backslash. */
  escapeStart?: number;
}

export type JsonParseResult = { ok: true; node: JsonNode } | { ok: false; error: JsonSyntaxError; at: JsonFailurePoint };

class SyntaxFailure {
  constructor(
    readonly error: JsonSyntaxError,
    readonly at: JsonFailurePoint,
  ) {}
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
    if (e instanceof SyntaxFailure) return { ok: false, error: e.error, at: e.at };
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

  /** Start of the value being read, and of the escape being read (for the error). */
  private valueStart = 0;
  private escapeStart: number | undefined;

  fail(context: JsonScanContext, phrase: string = context): never {
    const at: JsonFailurePoint = { context, valueStart: this.valueStart, escapeStart: this.escapeStart };
    if (this.i >= this.s.length) throw new SyntaxFailure({ message: "unexpected end of JSON input", offset: this.s.length }, at);
    const cp = this.s.codePointAt(this.i) ?? 0;
    throw new SyntaxFailure({ message: `invalid character ${quoteChar(String.fromCodePoint(cp))} ${phrase}`, offset: this.i }, at);
  }

  value(): JsonNode {
    this.valueStart = this.i;
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
      if (this.s[this.i] !== word[k]) this.fail("in literal", `in literal ${word} (expecting '${word[k]}')`);
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
    this.valueStart = start;
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
      this.escapeStart = this.i;
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
      this.escapeStart = undefined;
    }
    out += s.slice(chunkStart, this.i);
    this.i++; // closing quote
    return { kind: "string", value: out, escaped, start, end: this.i };
  }

  /** Entering an array or object: refuse one level past the limit, at its opening bracket. */
  private enter(): void {
    if (++this.depth > LIMITS.maxNesting) {
      const message = `exceeded max depth: nested more than ${LIMITS.maxNesting} levels deep`;
      throw new SyntaxFailure({ message, offset: this.i }, { context: "depth", valueStart: this.i });
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
    const entries: JsonMember[] = [];
    this.skipWs();
    if (this.s[this.i] === "}") {
      this.i++;
      this.depth--;
      return { kind: "object", members, duplicates, entries, start, end: this.i };
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
      entries.push(member);
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
        return { kind: "object", members, duplicates, entries, start, end: this.i };
      }
      this.fail("after object key:value pair");
    }
  }
}
