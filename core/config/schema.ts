// The configuration schema a plugin declares through `describe` (docs/plugin-abi.md). It is data,
// so the host can check a config before the plugin sees it, HCL2 can decode a block with it, and
// `validate` can point at an unknown or mistyped key.
import * as v from "valibot";
import type { JsonValue } from "../values/json.ts";

/** HCL-style type expressions, the subset plugins need. */
export const FIELD_TYPES = [
  "string",
  "number",
  "bool",
  "list(string)",
  "list(number)",
  "map(string)",
  "list(map(string))",
  "any",
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface ConfigField {
  name: string;
  type: FieldType;
  required?: boolean;
  default?: JsonValue;
  /**
   * Late keys are not rendered by the core: the plugin renders them itself at run time with its own
   * data (e.g. shell's execute_command with {{.Path}} and {{.Vars}}), through the `template_render` host call.
   */
  late?: boolean;
  description?: string;
}

export interface ConfigSchema {
  fields: readonly ConfigField[];
  /** Accept keys not listed (rare; Packer components reject unknown keys). */
  allowUnknown?: boolean;
  /**
   * With allowUnknown: keys not listed are late too (a Packer plugin builder checks and renders its
   * own config, `{{user}}` and `{{.Image}}` alike, as under Packer).
   */
  unknownLate?: boolean;
}

export const ConfigFieldSchema = v.object({
  name: v.pipe(v.string(), v.regex(/^[a-z_][a-z0-9_]*$/i, "field names are identifiers")),
  type: v.picklist(FIELD_TYPES),
  required: v.optional(v.boolean()),
  default: v.optional(v.unknown() as v.GenericSchema<JsonValue>),
  late: v.optional(v.boolean()),
  description: v.optional(v.string()),
});

export const ConfigSchemaSchema = v.object({
  fields: v.array(ConfigFieldSchema),
  allowUnknown: v.optional(v.boolean()),
});

export function fieldNamed(schema: ConfigSchema, name: string): ConfigField | undefined {
  return schema.fields.find((f) => f.name === name);
}

/** The schema an `override` is checked against: it only changes keys, so nothing is required or defaulted. */
export function overrideSchema(schema: ConfigSchema): ConfigSchema {
  return { ...schema, fields: schema.fields.map((f) => ({ ...f, required: false, default: undefined })) };
}

/** The TypeScript type a decoded value of a field type has. */
export type FieldValue<T extends FieldType> = T extends "string"
  ? string
  : T extends "number"
    ? number
    : T extends "bool"
      ? boolean
      : T extends "list(string)"
        ? string[]
        : T extends "list(number)"
          ? number[]
          : T extends "map(string)"
            ? Record<string, string>
            : T extends "list(map(string))"
              ? Record<string, string>[]
              : JsonValue;

/**
 * The decoded config of a list of fields, every key present (a builder's config is decoded with
 * zero values filled, like a Go struct): `ConfigOf<typeof fields>` is the builder's config type,
 * derived from its schema instead of written beside it.
 */
export type ConfigOf<F extends readonly ConfigField[]> = { [K in F[number] as K["name"]]: FieldValue<K["type"]> };

/**
 * Declares fields keeping their names and types as literal types, so `ConfigOf` can read them
 * (`defineFields([{ name: "image", type: "string" }])`).
 */
export function defineFields<const F extends readonly ConfigField[]>(fields: F): F {
  return fields;
}
