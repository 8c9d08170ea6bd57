// The one config decoder: a JSON object checked against a ConfigSchema with Packer's decoding rules
// (packer-plugin-sdk template/config.Decode: mapstructure with WeaklyTypedInput and the
// StringToSlice(",") hook). Legacy JSON bodies, HCL2 bodies (after evaluation), plugin configs and
// builders all decode through here, so a value means the same whichever way it arrives.
//
// Weak typing, as mapstructure does it:
// - to a string: a bool is "1"/"0", a number its decimal text (no exponent);
// - to a number: a bool is 1/0, a string is parsed ("" is 0, "0x1f" hex), anything else is an error;
// - to a bool: a number is `!= 0`, a string is strconv.ParseBool's ("1", "t", "true", "FALSE", ...)
//   or "" (false);
// - to a list: a string is split at commas ("" is empty), any other single value is a list of one,
//   then every element is converted;
// - to a map: an empty list is an empty map, a list of maps is merged, then every value is converted;
// - null leaves the key unset (Go's zero value), so a default or "required" applies.
//
// Problems are DecodeIssues: data with a kind and a path, so a caller with positions (a template)
// can point at the key or element, and worded in one place (messages.ts).
import type { JsonObject, JsonValue } from "../values/json.ts";
import { isJsonObject } from "../values/json.ts";
import type { ConfigSchema, FieldType } from "./schema.ts";

/** A key (and, inside lists and maps, the index or map key) the issue is about. */
export type IssuePath = readonly (string | number)[];

export type DecodeIssue =
  | { kind: "unknown-key"; path: IssuePath; known: readonly string[] }
  | { kind: "unconvertible"; path: IssuePath; want: "string" | "number" | "bool" | "map"; got: JsonValue }
  | { kind: "unparsable"; path: IssuePath; want: "number" | "bool"; text: string }
  | { kind: "required"; path: IssuePath };

export type Converted = { ok: true; value: JsonValue } | { ok: false; issue: DecodeIssue };

export interface DecodeOptions {
  /** An override: only the keys it sets (no defaults, no required keys). */
  partial?: boolean;
  /** Keys left unset get their default, else their type's zero value (a builder's Go struct). */
  zeroFill?: boolean;
}

/**
 * Packer's common keys (packer_build_name, packer_force, ...) may be given to every component:
 * they are never unknown (template/config.Decode skips them and `type`).
 */
export function isCommonKey(key: string): boolean {
  return key.startsWith("packer_");
}

/** Decodes one config object. Unknown keys, wrong types and missing required keys are issues. */
export function decode(schema: ConfigSchema, value: JsonObject, opts: DecodeOptions = {}): { value: JsonObject; issues: DecodeIssue[] } {
  const issues: DecodeIssue[] = [];
  const out: JsonObject = {};
  const given = new Set<string>();
  const fields = new Map(schema.fields.map((f) => [f.name, f]));
  for (const [key, item] of Object.entries(value)) {
    const field = fields.get(key);
    if (!field && !schema.allowUnknown) {
      if (!isCommonKey(key)) issues.push(unknownKey(key, schema));
      continue;
    }
    if (item === null) continue;
    given.add(key);
    if (!field) {
      out[key] = item;
      continue;
    }
    const c = convert(field.type, item, [key]);
    if (c.ok) out[key] = c.value;
    else issues.push(c.issue);
  }
  if (!opts.partial) issues.push(...complete(schema, out, given, opts.zeroFill ?? false));
  return { value: out, issues };
}

export function unknownKey(key: string, schema: ConfigSchema): DecodeIssue {
  return { kind: "unknown-key", path: [key], known: schema.fields.map((f) => f.name) };
}

/**
 * Fills defaults (and with zeroFill, zero values) into `out`; a required key neither decoded nor
 * `given` (set, even if its value was rejected) is an issue.
 */
export function complete(schema: ConfigSchema, out: JsonObject, given: ReadonlySet<string>, zeroFill = false): DecodeIssue[] {
  const issues: DecodeIssue[] = [];
  for (const f of schema.fields) {
    if (Object.hasOwn(out, f.name)) continue;
    if (f.required && !given.has(f.name)) issues.push({ kind: "required", path: [f.name] });
    if (f.default !== undefined) out[f.name] = structuredClone(f.default);
    else if (zeroFill) out[f.name] = zeroValue(f.type);
  }
  return issues;
}

/** Go's zero value of a field's type. */
export function zeroValue(type: FieldType): JsonValue {
  switch (type) {
    case "string":
      return "";
    case "number":
      return 0;
    case "bool":
      return false;
    case "list(string)":
    case "list(number)":
    case "list(map(string))":
      return [];
    case "map(string)":
      return {};
    case "any":
      return null;
  }
}

/** Converts one value to a field type with the weak rules above; `path` names it in an issue. */
export function convert(type: FieldType, v: JsonValue, path: IssuePath): Converted {
  switch (type) {
    case "any":
      return { ok: true, value: v };
    case "string":
      return toStr(v, path);
    case "number":
      return toNum(v, path);
    case "bool":
      return toBool(v, path);
    case "list(string)":
      return toList(v, path, toStr);
    case "list(number)":
      return toList(v, path, toNum);
    case "map(string)":
      return toStrMap(v, path);
    case "list(map(string))":
      return toList(v, path, toStrMap, false);
  }
}

type Conv = (v: JsonValue, path: IssuePath) => Converted;

const toStr: Conv = (v, path) => {
  if (typeof v === "string") return { ok: true, value: v };
  if (typeof v === "number") return { ok: true, value: goFloatString(v) };
  if (typeof v === "boolean") return { ok: true, value: v ? "1" : "0" };
  return { ok: false, issue: { kind: "unconvertible", path, want: "string", got: v } };
};

const toNum: Conv = (v, path) => {
  if (typeof v === "number") return { ok: true, value: v };
  if (typeof v === "boolean") return { ok: true, value: v ? 1 : 0 };
  if (typeof v === "string") {
    const n = parseGoNumber(v);
    if (n !== undefined) return { ok: true, value: n };
    return { ok: false, issue: { kind: "unparsable", path, want: "number", text: v } };
  }
  return { ok: false, issue: { kind: "unconvertible", path, want: "number", got: v } };
};

const toBool: Conv = (v, path) => {
  if (typeof v === "boolean") return { ok: true, value: v };
  if (typeof v === "number") return { ok: true, value: v !== 0 };
  if (typeof v === "string") {
    if (v === "") return { ok: true, value: false };
    const b = parseGoBool(v);
    if (b !== undefined) return { ok: true, value: b };
    return { ok: false, issue: { kind: "unparsable", path, want: "bool", text: v } };
  }
  return { ok: false, issue: { kind: "unconvertible", path, want: "bool", got: v } };
};

function toList(v: JsonValue, path: IssuePath, item: Conv, splitStrings = true): Converted {
  const items = Array.isArray(v) ? v : typeof v === "string" && splitStrings ? (v === "" ? [] : v.split(",")) : [v];
  const out: JsonValue[] = [];
  for (let i = 0; i < items.length; i++) {
    const c = item(items[i]!, [...path, i]);
    if (!c.ok) return c;
    out.push(c.value);
  }
  return { ok: true, value: out };
}

const toStrMap: Conv = (v, path) => {
  let source: JsonObject;
  if (isJsonObject(v)) source = v;
  else if (Array.isArray(v) && v.every(isJsonObject)) source = Object.assign({}, ...v);
  else return { ok: false, issue: { kind: "unconvertible", path, want: "map", got: v } };
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(source)) {
    const c = toStr(x, [...path, k]);
    if (!c.ok) return c;
    out[k] = c.value;
  }
  return { ok: true, value: out };
};

/** strconv.FormatFloat(f, 'f', -1, 64): no exponent. */
export function goFloatString(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString();
  const s = String(n);
  if (!/e/.test(s)) return s;
  return n.toFixed(20).replace(/\.?0+$/, "");
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(s)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(s)) return false;
  return undefined;
}

/**
 * A number from text as mapstructure reads it into an int (strconv.ParseInt, base from the
 * prefix: 0x, 0o, 0b) or a float (strconv.ParseFloat); "" is 0.
 */
export function parseGoNumber(s: string): number | undefined {
  if (s === "") return 0;
  const prefixed = /^([+-]?)0([xXoObB])([0-9a-fA-F_]+)$/.exec(s);
  if (prefixed) {
    const base = { x: 16, o: 8, b: 2 }[prefixed[2]!.toLowerCase() as "x" | "o" | "b"];
    const digits = prefixed[3]!.replace(/_/g, "");
    const n = parseInt(digits, base);
    if (Number.isNaN(n) || n.toString(base) !== digits.replace(/^0+(?=.)/, "").toLowerCase()) return undefined;
    return prefixed[1] === "-" ? -n : n;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}
