// How Go's text/template sees and prints the values a Packer template handles (strings, numbers,
// booleans, lists and maps that came from JSON). `undefined` is Go's "invalid value" (a missing map
// key), printed as "<no value>" like nil.
import type { JsonValue } from "../../values/json.ts";

export type GoValue = JsonValue | undefined;

/** fmt's %v of a value, as text/template prints an action's result. */
export function goPrint(v: GoValue): string {
  if (v === undefined || v === null) return "<no value>";
  return formatInner(v);
}

function formatInner(v: GoValue): string {
  if (v === undefined || v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return goNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(formatInner).join(" ")}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${formatInner(v[k])}`).join(" ")}]`;
}

export function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "NaN" : n > 0 ? "+Inf" : "-Inf";
  const s = String(n);
  // Go prints exponents with at least two digits: 1e+21, 1e-07.
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

/** Go's type name for messages: string, int, float64, bool, []interface {}, map[string]interface {}. */
export function goTypeName(v: GoValue): string {
  if (v === undefined || v === null) return "<nil>";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

/** text/template's truth: the zero value of its type is false. */
export function goTruth(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "string") return v.length > 0;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}
