// A plugin's ConfigSpec (rpc/common.go: a gob-encoded hcldec.ObjectSpec) as the ConfigSchema imgb
// decodes component bodies with: each AttrSpec a field of its cty type, each block spec a field
// that takes blocks. Every field is late: the plugin checks and renders its own values in Prepare,
// as under Packer; the schema is there so an unknown key or a mistyped value is reported with its
// position before the plugin sees the config.
// The spec arrives in one of two encodings: gob (hcldec.ObjectSpec, a map of *hcldec.AttrSpec and
// other registered spec types) or, from an SDK plugin started with --protobuf, the protobuf Spec of
// the SDK's rpc/hcl_spec.proto (Spec{object: Object{attributes: map<string, Spec>}}).
import type { ConfigField, ConfigSchema, FieldType } from "../config/schema.ts";
import { ctyType } from "./cty.ts";
import { protobufSpecEntries } from "./hcl-spec-proto.ts";
import { decodeGobValue, type GobInterface } from "./gob.ts";
import { T, typeString, type Type } from "../hcl/types.ts";

const isIface = (v: unknown): v is GobInterface => !!v && typeof v === "object" && "type" in v && "value" in v;
const obj = (v: unknown): Record<string, unknown> =>
  v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [String(k), x])) : v && typeof v === "object" ? (v as Record<string, unknown>) : {};

export type SpecEncoding = "gob" | "protobuf";

/** One key of an object spec, whichever encoding it came in. */
export interface SpecEntry {
  key: string;
  /** attr: an AttrSpec; block: one nested block (BlockSpec); blocks: any other block spec. */
  kind: "attr" | "block" | "blocks";
  /** An attribute's cty type; undefined when imgb cannot read it (the plugin still checks it). */
  type?: Type;
  required: boolean;
}

function gobSpecEntries(bytes: Uint8Array): SpecEntry[] {
  const spec = decodeGobValue(bytes);
  if (!(spec instanceof Map)) throw new Error("the spec is not an hcldec.ObjectSpec");
  const out: SpecEntry[] = [];
  for (const [key, entry] of spec) {
    if (!isIface(entry)) continue;
    const v = obj(entry.value);
    const kind = entry.type.slice(entry.type.lastIndexOf(".") + 1);
    if (kind === "AttrSpec") {
      let type: Type | undefined;
      try {
        if (v.Type instanceof Uint8Array) type = ctyType(v.Type);
      } catch {
        // unreadable: left to the plugin
      }
      out.push({ key: String(key), kind: "attr", type, required: v.Required === true });
    } else out.push({ key: String(key), kind: kind === "BlockSpec" ? "block" : "blocks", required: false });
  }
  return out;
}

export function specEntries(bytes: Uint8Array, encoding: SpecEncoding): SpecEntry[] {
  return encoding === "gob" ? gobSpecEntries(bytes) : protobufSpecEntries(bytes);
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
 * The schema of a ConfigSpec reply's bytes; throws on bytes that are not one. With
 * requiredFromSpec, an AttrSpec's Required is kept (hcldec reports it missing before the plugin
 * runs, as Packer's startDatasource does); builders leave it to Prepare, which names them as
 * Packer does in JSON and HCL2 alike.
 */
export function schemaFromConfigSpec(bytes: Uint8Array, requiredFromSpec = false, encoding: SpecEncoding = "gob"): ConfigSchema {
  const fields: ConfigField[] = [];
  for (const e of specEntries(bytes, encoding)) {
    if (e.kind === "attr") {
      const type = e.type ? fieldType(typeString(e.type)) : "any";
      fields.push({ name: e.key, type, late: true, ...(requiredFromSpec && e.required ? { required: true } : {}) });
    } else if (e.kind === "block") {
      // One block: its object (HCL2 decodes it unwrapped for a map-typed field).
      fields.push({ name: e.key, type: "map(string)", late: true });
    } else {
      // BlockListSpec, BlockSetSpec, BlockMapSpec, BlockAttrsSpec, BlockObjectSpec: blocks (or, in JSON, their objects).
      fields.push({ name: e.key, type: "any", late: true });
    }
  }
  return { fields, allowUnknown: false };
}

/**
 * hcldec.ImpliedType of an ObjectSpec (a data source's OutputSpec): an object with one attribute
 * per AttrSpec of its cty type; block specs and types imgb cannot read are dynamic.
 */
export function impliedTypeOfSpec(bytes: Uint8Array, encoding: SpecEncoding = "gob"): Type {
  const attrs: Record<string, Type> = {};
  for (const e of specEntries(bytes, encoding)) attrs[e.key] = (e.kind === "attr" && e.type) || T.dynamic;
  return T.object(attrs);
}
