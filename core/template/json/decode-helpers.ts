// Small decoders for template fields, with mapstructure's two modes: strict (Packer's root keys and
// post-processors) and weak (builders and provisioners: a number or bool where a string is expected
// is converted, a single value where a list is expected becomes a one-element list).
import type { JsonNode } from "./positioned-json.ts";

/** The Go type encoding/json gives a value, for mapstructure-style messages. */
export function goJsonType(node: JsonNode): string {
  switch (node.kind) {
    case "string":
      return "string";
    case "number":
      return "float64";
    case "bool":
      return "bool";
    case "null":
      return "<nil>";
    case "array":
      return "[]interface {}";
    case "object":
      return "map[string]interface {}";
  }
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string; node: JsonNode };

const unconvertible = (key: string, want: string, node: JsonNode): Decoded<never> => ({
  ok: false,
  error: `'${key}' expected type '${want}', got unconvertible type '${goJsonType(node)}'`,
  node,
});

/** strconv.FormatFloat(f, 'f', -1, 64): no exponent. */
export function goFloatString(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString();
  const s = String(n);
  if (!/e/.test(s)) return s;
  return n.toFixed(20).replace(/\.?0+$/, "");
}

export function decodeString(node: JsonNode, key: string, weak: boolean): Decoded<string> {
  if (node.kind === "string") return { ok: true, value: node.value };
  if (weak) {
    if (node.kind === "number") return { ok: true, value: goFloatString(node.value) };
    if (node.kind === "bool") return { ok: true, value: node.value ? "1" : "0" };
    if (node.kind === "null") return { ok: true, value: "" };
  }
  return unconvertible(key, "string", node);
}

export function decodeStringList(node: JsonNode, key: string, weak: boolean): Decoded<string[]> {
  if (node.kind === "null") return { ok: true, value: [] };
  if (node.kind !== "array") {
    if (!weak) return { ok: false, error: `'${key}': source data must be an array or slice, got ${goJsonType(node)}`, node };
    const one = decodeString(node, `${key}[0]`, true);
    return one.ok ? { ok: true, value: [one.value] } : one;
  }
  const out: string[] = [];
  for (let i = 0; i < node.items.length; i++) {
    const item = decodeString(node.items[i] as JsonNode, `${key}[${i}]`, weak);
    if (!item.ok) return item;
    out.push(item.value);
  }
  return { ok: true, value: out };
}

export function decodeBool(node: JsonNode, key: string, weak: boolean): Decoded<boolean> {
  if (node.kind === "bool") return { ok: true, value: node.value };
  if (weak) {
    if (node.kind === "number") return { ok: true, value: node.value !== 0 };
    if (node.kind === "string") {
      const b = parseGoBool(node.value);
      if (b !== undefined) return { ok: true, value: b };
      return { ok: false, error: `cannot parse '${key}' as bool: strconv.ParseBool: parsing ${JSON.stringify(node.value)}: invalid syntax`, node };
    }
  }
  return unconvertible(key, "bool", node);
}

/** strconv.ParseBool, plus mapstructure's "" = false. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False", ""].includes(s)) return false;
  return undefined;
}
