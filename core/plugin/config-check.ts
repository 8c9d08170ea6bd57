// Checks configs against a plugin's declared ConfigSchema before the plugin sees them. Packer decodes
// configs with mapstructure's weak typing, so the same conversions are applied here: a number or
// bool where a string is wanted becomes its text, "true"/"1" become bools, numeric strings become
// numbers, and a single value where a list is wanted becomes a one-element list
// ("environment_vars": "A=b"). Everything else is a diagnostic naming the key.
import { errorDiag, type Diagnostic } from "../errors/diagnostic.ts";
import { isJsonObject, type JsonObject, type JsonValue } from "../values/json.ts";
import { LIMITS, nestingDepth, nestingMessage } from "../values/limits.ts";
import type { ConfigSchema, FieldType } from "../config/schema.ts";

type Coerced = { ok: true; value: JsonValue } | { ok: false };

function toStr(v: JsonValue): Coerced {
  if (typeof v === "string") return { ok: true, value: v };
  if (typeof v === "number") return { ok: true, value: String(v) };
  if (typeof v === "boolean") return { ok: true, value: v ? "1" : "0" };
  return { ok: false };
}

function toNum(v: JsonValue): Coerced {
  if (typeof v === "number") return { ok: true, value: v };
  if (typeof v === "boolean") return { ok: true, value: v ? 1 : 0 };
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return { ok: true, value: Number(v) };
  return { ok: false };
}

function toBool(v: JsonValue): Coerced {
  if (typeof v === "boolean") return { ok: true, value: v };
  if (typeof v === "number") return { ok: true, value: v !== 0 };
  if (typeof v === "string") {
    if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return { ok: true, value: true };
    if (["0", "f", "F", "false", "FALSE", "False", ""].includes(v)) return { ok: true, value: false };
  }
  return { ok: false };
}

function toList(v: JsonValue, item: (x: JsonValue) => Coerced): Coerced {
  const items = Array.isArray(v) ? v : [v];
  const out: JsonValue[] = [];
  for (const x of items) {
    const c = item(x);
    if (!c.ok) return c;
    out.push(c.value);
  }
  return { ok: true, value: out };
}

function toStrMap(v: JsonValue): Coerced {
  if (!isJsonObject(v)) return { ok: false };
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    const c = toStr(x);
    if (!c.ok) return c;
    out[k] = c.value;
  }
  return { ok: true, value: out };
}

export function coerce(type: FieldType, v: JsonValue): Coerced {
  switch (type) {
    case "any":
      return { ok: true, value: v };
    case "string":
      return toStr(v);
    case "number":
      return toNum(v);
    case "bool":
      return toBool(v);
    case "list(string)":
      return toList(v, toStr);
    case "list(number)":
      return toList(v, toNum);
    case "map(string)":
      return toStrMap(v);
    case "list(map(string))":
      return toList(v, toStrMap);
  }
}

function describeValue(v: JsonValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Checks and converts each config; returns the converted configs (defaults first, when the schema
 * declares any) and the diagnostics. `plugin` names the plugin in every diagnostic.
 */
export function checkConfigs(plugin: string, schema: ConfigSchema, configs: JsonObject[]): { configs: JsonObject[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const out: JsonObject[] = [];
  const fields = new Map(schema.fields.map((f) => [f.name, f]));
  const defaults: JsonObject = {};
  for (const f of schema.fields) if (f.default !== undefined) defaults[f.name] = f.default;
  if (Object.keys(defaults).length > 0) out.push(defaults);
  const where = `plugin ${plugin}`;
  for (const config of configs) {
    const converted: JsonObject = {};
    for (const [key, value] of Object.entries(config)) {
      // Templates' parsers bound nesting already; decoded values (jsondecode, yamldecode) are bounded
      // too, so this is the last guard before a deep value is serialized for the sandbox.
      if (nestingDepth(value) > LIMITS.maxNesting) {
        diagnostics.push(errorDiag(nestingMessage(`the value of ${key}`), undefined, where));
        continue;
      }
      const field = fields.get(key);
      if (!field) {
        if (schema.allowUnknown) converted[key] = value;
        else diagnostics.push(errorDiag(`unknown configuration key: '${JSON.stringify(key)}'`, undefined, where));
        continue;
      }
      if (value === null) continue;
      const c = coerce(field.type, value);
      if (c.ok) converted[key] = c.value;
      else diagnostics.push(errorDiag(`${key}: expected ${field.type}, got ${describeValue(value)}`, undefined, where));
    }
    out.push(converted);
  }
  for (const f of schema.fields) {
    if (f.required && !configs.some((c) => c[f.name] !== undefined && c[f.name] !== null)) {
      diagnostics.push(errorDiag(`${f.name} must be set`, undefined, where));
    }
  }
  return { configs: out, diagnostics };
}
