// Text forms of strings and primitive values shared by the encoders: HCL literals (the writer), Go's
// strconv.Quote (format's %q, the upgrade command's comments), YAML (yamlencode) and JSON
// (jsonencode). The quoting styles share the common escapes and differ in the extra ones and in how
// they write other control characters.
import type { Value } from "./value.ts";

const COMMON_ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const GO_ESCAPES: Readonly<Record<string, string>> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v" };
const NONE: Readonly<Record<string, string>> = {};

/** `other` writes a character no escape names, or returns undefined to keep it as it is. */
function quoteEscaped(s: string, extra: Readonly<Record<string, string>>, other: (ch: string, cp: number) => string | undefined): string {
  let out = '"';
  for (const ch of s) {
    const e = COMMON_ESCAPES[ch] ?? extra[ch];
    if (e !== undefined) {
      out += e;
      continue;
    }
    out += other(ch, ch.codePointAt(0)!) ?? ch;
  }
  return out + '"';
}

/** Control characters as \xHH (Go's and yaml.v2's way). */
const hexByte = (_ch: string, cp: number): string | undefined =>
  cp < 0x20 || cp === 0x7f ? "\\x" + cp.toString(16).padStart(2, "0") : undefined;

/** What hclwrite escapes: any character Go's unicode.IsPrint rejects, as \uHHHH or \UHHHHHHHH. */
const unprintable = (ch: string, cp: number): string | undefined => {
  if (ch === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) return undefined;
  return cp < 0x10000 ? "\\u" + cp.toString(16).padStart(4, "0") : "\\U" + cp.toString(16).padStart(8, "0");
};

/** Go's strconv.Quote (for the characters HCL configs contain: control characters, not unprintable Unicode). */
export function goQuote(s: string): string {
  return quoteEscaped(s, GO_ESCAPES, hexByte);
}

/** A YAML double-quoted scalar, as yaml.v2 writes one. */
export function yamlQuote(s: string): string {
  return quoteEscaped(s, NONE, hexByte);
}

/** Quotes a string as hclwrite does: a template literal with `${` and `%{` escaped so nothing interpolates. */
export function quoteString(s: string): string {
  return quoteEscaped(s.replace(/[$%](?=\{)/g, "$&$&"), NONE, unprintable);
}

/** A JSON string with Go's HTML-safe escaping of <, >, & (and U+2028/9), as cty's jsonencode does. */
export function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** The text of a known, non-null string (through `quote`), number or bool; undefined for anything else. */
export function primitiveText(v: Value, quote: (s: string) => string): string | undefined {
  switch (v.type.kind) {
    case "string":
      return quote(v.str);
    case "number":
      return v.num.toString();
    case "bool":
      return v.bool ? "true" : "false";
    default:
      return undefined;
  }
}
