// Canonical JSON: the exact bytes every registry signature covers. Signing parsed-and-reserialised
// JSON only works if signer and verifier serialise identically, so the form is fixed here:
//   - object keys sorted by UTF-16 code unit order (JavaScript's default sort), no duplicates;
//   - no whitespace; strings escaped exactly as JSON.stringify escapes them;
//   - numbers must be safe integers (no floats, no exponents: their text form is not portable);
//   - the result is encoded as UTF-8.
import type { JsonValue } from "../values/json.ts";

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`canonical JSON allows only safe integers, got ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const k of keys) {
    const v = value[k];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(",")}}`;
}

export function canonicalBytes(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
