// Decodes a builder's config against its ConfigSchema: the schema is the one source of truth for
// names, types and defaults, so `validate`, HCL2 decoding and the builder agree. Shared by the
// docker, rootfs and qemu builders.
import * as v from "valibot";
import type { ConfigSchema, FieldType } from "../../config/schema.ts";
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import type { JsonObject, JsonValue } from "../../values/json.ts";
import { parseGoDuration } from "../../values/go-duration.ts";

const stringList = v.array(v.string());
const stringMap = v.record(v.string(), v.string());

// Packer decodes JSON templates weakly ("true" for a bool, "10" for a number): accept the same.
const weakBool = v.union([
  v.boolean(),
  v.pipe(
    v.picklist(["true", "false", "1", "0"]),
    v.transform((s) => s === "true" || s === "1"),
  ),
]);
const weakNumber = v.union([
  v.number(),
  v.pipe(v.string(), v.regex(/^-?\d+(\.\d+)?$/, "expected a number"), v.transform(Number)),
]);

function fieldValidator(type: FieldType): v.GenericSchema<unknown, unknown> {
  switch (type) {
    case "string":
      return v.union([v.string(), v.pipe(v.number(), v.transform(String))]);
    case "number":
      return weakNumber;
    case "bool":
      return weakBool;
    case "list(string)":
      return stringList;
    case "list(number)":
      return v.array(weakNumber);
    case "map(string)":
      return stringMap;
    case "list(map(string))":
      return v.array(stringMap);
    case "any":
      return v.unknown();
  }
}

/**
 * Check types, reject unknown keys and fill defaults. `T` must describe the schema's fields; the
 * cast is safe because every field was validated against its declared type just above.
 */
export function decodeConfig<T>(
  builderType: string,
  schema: ConfigSchema,
  config: JsonObject,
): { value?: T; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(config)) {
    // Packer's common keys (packer_build_name, packer_force, packer_on_error, ...) may be injected by
    // the engine into every builder's config; the schema lists the ones a builder reads.
    if (key.startsWith("packer_")) continue;
    if (!schema.allowUnknown && !schema.fields.some((f) => f.name === key)) {
      diagnostics.push(errorDiag(`${builderType}: unknown configuration key: "${key}"`));
    }
  }
  for (const field of schema.fields) {
    const raw: JsonValue | undefined = config[field.name];
    if (raw === undefined || raw === null) {
      if (field.required) diagnostics.push(errorDiag(`${builderType}: "${field.name}" must be specified`));
      out[field.name] = structuredClone(field.default ?? zeroValue(field.type));
      continue;
    }
    const parsed = v.safeParse(fieldValidator(field.type), raw);
    if (parsed.success) out[field.name] = parsed.output;
    else diagnostics.push(errorDiag(`${builderType}: "${field.name}" must be ${field.type}`, undefined, parsed.issues[0]?.message));
  }
  if (diagnostics.length > 0) return { diagnostics };
  return { value: out as T, diagnostics };
}

function zeroValue(type: FieldType): JsonValue {
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

/** Packer's duration strings: Go durations ("5m", "1h30m", "300ms"); a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const r = parseGoDuration(s);
  return r.ok ? r.ms : undefined;
}

/** Disk sizes as Packer writes them: "10240" (MiB), "1500M", "20G", "1T". Returns bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([KMGT]i?B?)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? "M").toUpperCase()[0]!;
  const shift = { K: 10, M: 20, G: 30, T: 40 }[unit as "K" | "M" | "G" | "T"];
  return Number(m[1]) * 2 ** shift;
}
