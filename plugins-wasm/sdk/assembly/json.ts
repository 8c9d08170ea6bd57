// A small JSON value tree for plugins: parse what the host sends, build what the plugin answers.
// Hand-written instead of json-as so that plugins need no compiler transform, keep every character
// outside the basic plane, and see wrong types instead of silent defaults.

export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

export class Json {
  kind: JsonKind = JsonKind.Null;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  items: Array<Json> = new Array<Json>();
  keys: Array<string> = new Array<string>();
  values: Map<string, Json> = new Map<string, Json>();

  static null(): Json {
    return new Json();
  }
  static bool(v: bool): Json {
    const j = new Json();
    j.kind = JsonKind.Bool;
    j.b = v;
    return j;
  }
  static num(v: f64): Json {
    const j = new Json();
    j.kind = JsonKind.Number;
    j.n = v;
    return j;
  }
  static str(v: string): Json {
    const j = new Json();
    j.kind = JsonKind.String;
    j.s = v;
    return j;
  }
  static arr(): Json {
    const j = new Json();
    j.kind = JsonKind.Array;
    return j;
  }
  static obj(): Json {
    const j = new Json();
    j.kind = JsonKind.Object;
    return j;
  }
  static strings(list: Array<string>): Json {
    const j = Json.arr();
    for (let i = 0; i < list.length; i++) j.items.push(Json.str(list[i]));
    return j;
  }

  isNull(): bool {
    return this.kind == JsonKind.Null;
  }
  isString(): bool {
    return this.kind == JsonKind.String;
  }
  isObject(): bool {
    return this.kind == JsonKind.Object;
  }
  isArray(): bool {
    return this.kind == JsonKind.Array;
  }

  /** Object member or null when absent (or when this is not an object). */
  get(key: string): Json | null {
    if (this.kind != JsonKind.Object || !this.values.has(key)) return null;
    return this.values.get(key);
  }
  has(key: string): bool {
    return this.kind == JsonKind.Object && this.values.has(key);
  }
  /** Sets an object member, keeping first-insertion order. Returns this for chaining. */
  set(key: string, value: Json): Json {
    if (!this.values.has(key)) this.keys.push(key);
    this.values.set(key, value);
    return this;
  }
  setStr(key: string, value: string): Json {
    return this.set(key, Json.str(value));
  }
  setNum(key: string, value: f64): Json {
    return this.set(key, Json.num(value));
  }
  setBool(key: string, value: bool): Json {
    return this.set(key, Json.bool(value));
  }
  push(value: Json): Json {
    this.items.push(value);
    return this;
  }

  // Typed getters with a fallback for absent or null members. The host has already checked the
  // config against the declared schema, so a present member has the declared type.
  getString(key: string, fallback: string = ""): string {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.String) return fallback;
    return v.s;
  }
  getNumber(key: string, fallback: f64 = 0): f64 {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.Number) return fallback;
    return v.n;
  }
  getBool(key: string, fallback: bool = false): bool {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.Bool) return fallback;
    return v.b;
  }
  /** A list(string) member; null when absent. */
  getStringList(key: string): Array<string> | null {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.Array) return null;
    const out = new Array<string>();
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i];
      out.push(item.kind == JsonKind.String ? item.s : item.stringify());
    }
    return out;
  }
  getNumberList(key: string): Array<f64> | null {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.Array) return null;
    const out = new Array<f64>();
    for (let i = 0; i < v.items.length; i++) out.push(v.items[i].n);
    return out;
  }
  /** A map(string) member as parallel key/value lists (in the order received); null when absent. */
  getObject(key: string): Json | null {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.Object) return null;
    return v;
  }

  stringify(): string {
    const parts = new Array<string>();
    writeJson(this, parts);
    return parts.join("");
  }
}

function writeJson(v: Json, out: Array<string>): void {
  switch (v.kind) {
    case JsonKind.Null:
      out.push("null");
      break;
    case JsonKind.Bool:
      out.push(v.b ? "true" : "false");
      break;
    case JsonKind.Number:
      out.push(formatNumber(v.n));
      break;
    case JsonKind.String:
      out.push(quote(v.s));
      break;
    case JsonKind.Array: {
      out.push("[");
      for (let i = 0; i < v.items.length; i++) {
        if (i > 0) out.push(",");
        writeJson(v.items[i], out);
      }
      out.push("]");
      break;
    }
    case JsonKind.Object: {
      out.push("{");
      for (let i = 0; i < v.keys.length; i++) {
        if (i > 0) out.push(",");
        const k = v.keys[i];
        out.push(quote(k));
        out.push(":");
        writeJson(v.values.get(k), out);
      }
      out.push("}");
      break;
    }
  }
}

/** Integers print without AssemblyScript's ".0"; non-finite numbers have no JSON form and print as null. */
export function formatNumber(n: f64): string {
  if (isNaN(n) || !isFinite(n)) return "null";
  if (n == Math.floor(n) && Math.abs(n) < 9007199254740992) return (<i64>n).toString();
  return n.toString();
}

const HEX = "0123456789abcdef";

export function quote(s: string): string {
  const parts = new Array<string>();
  parts.push('"');
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c == 0x22) esc = '\\"';
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) esc = "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    if (esc !== null) {
      if (i > start) parts.push(s.substring(start, i));
      parts.push(esc);
      start = i + 1;
    }
  }
  if (start < s.length) parts.push(s.substring(start));
  parts.push('"');
  return parts.join("");
}

/** Result of parsing: a value, or an error message with the offset where parsing stopped. */
export class JsonParse {
  value: Json = Json.null();
  error: string = "";
  get ok(): bool {
    return this.error.length == 0;
  }
}

export function parseJson(text: string): JsonParse {
  const p = new Parser(text);
  const res = new JsonParse();
  p.skipWs();
  const v = p.parseValue();
  p.skipWs();
  if (p.err.length == 0 && p.pos < text.length) p.fail("unexpected text after the value");
  if (p.err.length > 0) res.error = p.err + " at offset " + p.pos.toString();
  else res.value = v;
  return res;
}

class Parser {
  pos: i32 = 0;
  err: string = "";
  depth: i32 = 0;
  constructor(public text: string) {}

  fail(msg: string): Json {
    if (this.err.length == 0) this.err = msg;
    return Json.null();
  }

  skipWs(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) this.pos++;
      else break;
    }
  }

  parseValue(): Json {
    if (this.err.length > 0) return Json.null();
    if (this.pos >= this.text.length) return this.fail("unexpected end of JSON");
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x7b) return this.parseObject();
    if (c == 0x5b) return this.parseArray();
    if (c == 0x22) {
      const s = this.parseString();
      return this.err.length > 0 ? Json.null() : Json.str(s);
    }
    if (c == 0x74) return this.literal("true", Json.bool(true));
    if (c == 0x66) return this.literal("false", Json.bool(false));
    if (c == 0x6e) return this.literal("null", Json.null());
    return this.parseNumber();
  }

  literal(word: string, v: Json): Json {
    if (this.text.substr(this.pos, word.length) != word) return this.fail("invalid literal");
    this.pos += word.length;
    return v;
  }

  parseNumber(): Json {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45) this.pos++;
      else break;
    }
    if (this.pos == start) return this.fail("unexpected character");
    const n = parseFloat(this.text.substring(start, this.pos));
    if (isNaN(n)) return this.fail("invalid number");
    return Json.num(n);
  }

  parseString(): string {
    // Precondition: at the opening quote.
    this.pos++;
    const parts = new Array<string>();
    let start = this.pos;
    while (true) {
      if (this.pos >= this.text.length) {
        this.fail("unterminated string");
        return "";
      }
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x22) {
        parts.push(this.text.substring(start, this.pos));
        this.pos++;
        return parts.join("");
      }
      if (c == 0x5c) {
        parts.push(this.text.substring(start, this.pos));
        this.pos++;
        if (this.pos >= this.text.length) {
          this.fail("unterminated escape");
          return "";
        }
        const e = this.text.charCodeAt(this.pos);
        this.pos++;
        if (e == 0x22) parts.push('"');
        else if (e == 0x5c) parts.push("\\");
        else if (e == 0x2f) parts.push("/");
        else if (e == 0x62) parts.push("\b");
        else if (e == 0x66) parts.push("\f");
        else if (e == 0x6e) parts.push("\n");
        else if (e == 0x72) parts.push("\r");
        else if (e == 0x74) parts.push("\t");
        else if (e == 0x75) {
          if (this.pos + 4 > this.text.length) {
            this.fail("bad unicode escape");
            return "";
          }
          const code = i32(parseInt(this.text.substr(this.pos, 4), 16));
          this.pos += 4;
          parts.push(String.fromCharCode(code));
        } else {
          this.fail("bad escape");
          return "";
        }
        start = this.pos;
        continue;
      }
      this.pos++;
    }
  }

  parseArray(): Json {
    this.pos++;
    if (++this.depth > 256) return this.fail("nesting too deep");
    const a = Json.arr();
    this.skipWs();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x5d) {
      this.pos++;
      this.depth--;
      return a;
    }
    while (this.err.length == 0) {
      this.skipWs();
      a.items.push(this.parseValue());
      this.skipWs();
      if (this.pos >= this.text.length) return this.fail("unterminated array");
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x5d) break;
      if (c != 0x2c) return this.fail("expected ',' or ']'");
    }
    this.depth--;
    return a;
  }

  parseObject(): Json {
    this.pos++;
    if (++this.depth > 256) return this.fail("nesting too deep");
    const o = Json.obj();
    this.skipWs();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x7d) {
      this.pos++;
      this.depth--;
      return o;
    }
    while (this.err.length == 0) {
      this.skipWs();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x22) return this.fail("expected a key");
      const k = this.parseString();
      this.skipWs();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x3a) return this.fail("expected ':'");
      this.pos++;
      this.skipWs();
      o.set(k, this.parseValue());
      this.skipWs();
      if (this.pos >= this.text.length) return this.fail("unterminated object");
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x7d) break;
      if (c != 0x2c) return this.fail("expected ',' or '}'");
    }
    this.depth--;
    return o;
  }
}
