// A plugin's ConfigSpec (rpc/common.go: a gob-encoded hcldec.ObjectSpec) as the ConfigSchema imgb
// decodes component bodies with: each AttrSpec a field of its cty type, each block spec a field
// that takes blocks. Every field is late: the plugin checks and renders its own values in Prepare,
// as under Packer; the schema is there so an unknown key or a mistyped value is reported with its
// position before the plugin sees the config.
import type { ConfigField, ConfigSchema, FieldType } from "../plugin/schema.ts";
import { ctyType, ctyTypeName } from "./cty.ts";
import { decodeGobValue, type GobInterface } from "./gob.ts";
import { T, type Type } from "../hcl/types.ts";

const isIface = (v: unknown): v is GobInterface => !!v && typeof v === "object" && "type" in v && "value" in v;
const obj = (v: unknown): Record<string, unknown> =>
  v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [String(k), x])) : v && typeof v === "object" ? (v as Record<string, unknown>) : {};

/** A cty type this schema cannot name is "any": the plugin still checks it. */
function typeNameOf(bytes: Uint8Array): string {
  try {
    return ctyTypeName(bytes);
  } catch {
    return "any";
  }
}

function fieldType(cty: string): FieldType {
  switch (cty) {
    case "string":
    case "number":
    case "bool":
    case "list(string)":
    case "list(number)":
    case "map(string)":
    case "list(map(string))":
      return cty;
    case "set(string)":
      return "list(string)";
    case "set(number)":
      return "list(number)";
    default:
      return "any";
  }
}

/**
 * The schema of a ConfigSpec reply's bytes; throws GobError on bytes that are not one. With
 * requiredFromSpec, an AttrSpec's Required is kept (hcldec reports it missing before the plugin
 * runs, as Packer's startDatasource does); builders leave it to Prepare.
 */
export function schemaFromConfigSpec(bytes: Uint8Array, requiredFromSpec = false): ConfigSchema {
  const spec = decodeGobValue(bytes);
  if (!(spec instanceof Map)) throw new Error("ConfigSpec is not an hcldec.ObjectSpec");
  const fields: ConfigField[] = [];
  for (const [key, entry] of spec) {
    if (!isIface(entry)) continue;
    const v = obj(entry.value);
    const kind = entry.type.slice(entry.type.lastIndexOf(".") + 1);
    if (kind === "AttrSpec") {
      const type = v.Type instanceof Uint8Array ? fieldType(typeNameOf(v.Type)) : "any";
      // Required keys are left to Prepare, which names them as Packer does in JSON and HCL2 alike.
      fields.push({ name: String(key), type, late: true, ...(requiredFromSpec && v.Required === true ? { required: true } : {}) });
    } else if (kind === "BlockSpec") {
      // One block: its object (HCL2 decodes it unwrapped for a map-typed field).
      fields.push({ name: String(key), type: "map(string)", late: true });
    } else {
      // BlockSpec, BlockListSpec, BlockSetSpec, BlockMapSpec, BlockAttrsSpec, BlockObjectSpec: blocks (or, in JSON, their objects).
      fields.push({ name: String(key), type: "any", late: true });
    }
  }
  return { fields, allowUnknown: false };
}

/**
 * hcldec.ImpliedType of an ObjectSpec (a data source's OutputSpec): an object with one attribute
 * per AttrSpec of its cty type; block specs and types imgb cannot read are dynamic.
 */
export function impliedTypeOfSpec(bytes: Uint8Array): Type {
  const spec = decodeGobValue(bytes);
  if (!(spec instanceof Map)) throw new Error("the spec is not an hcldec.ObjectSpec");
  const attrs: Record<string, Type> = {};
  for (const [key, entry] of spec) {
    if (!isIface(entry)) continue;
    const v = obj(entry.value);
    let t: Type = T.dynamic;
    if (entry.type.endsWith(".AttrSpec") && v.Type instanceof Uint8Array) {
      try {
        t = ctyType(v.Type);
      } catch {
        // dynamic
      }
    }
    attrs[String(key)] = t;
  }
  return T.object(attrs);
}
