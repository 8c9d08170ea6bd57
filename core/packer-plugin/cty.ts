// cty values and types as Packer's plugin protocol carries them (gob mode, packer-plugin-sdk rpc/):
//   - a cty.Type is a GobEncoder: a gob stream of gobType{Version, Impl}, Impl an interface holding
//     github.com/zclconf/go-cty/cty.primitiveType{Kind}, typeList/typeSet/typeMap{ElementTypeT},
//     typeObject{AttrTypes}, typeTuple{ElemTypes} or pseudoTypeDynamic;
//   - a cty.Value (Datasource.Execute's reply) is a GobEncoder: a gob stream of
//     gobValue{Version, Ty, V}, V an interface holding string, bool, math/big.Float (numbers),
//     map[string]interface {} (objects and maps) or []interface {} (lists and tuples); a nil V is null.
//     (go-cty's cty/gob.go, which SDK plugins keep through their go-cty fork.)
//   - with --protobuf (protocol v2), Execute's value is cty's msgpack instead:
//     msgpack.Marshal(v, cty.DynamicPseudoType) = [type JSON as bytes, the value], unknown values as
//     extension 0 (or 0x0c with refinements), numbers as ints, floats or decimal strings
//     (go-cty's cty/msgpack marshal.go, dynamic.go, unknown.go);
//   - values going to a plugin (Datasource.Configure) are cty's JSON with the type alongside
//     (rpc/cty_encode.go: json.Marshal(v, cty.DynamicPseudoType) = {"value": ..., "type": ...}).
import { Num } from "../hcl/num.ts";
import { T, typeString, type Type } from "../hcl/types.ts";
import { V, type Value } from "../hcl/value.ts";
import { msgpack } from "./msgpack.ts";
import type { JsonValue } from "../values/json.ts";
import { decodeGobValue, GobError, type GobInterface } from "./gob.ts";

const CTY = "github.com/zclconf/go-cty/cty.";

const isIface = (v: unknown): v is GobInterface => !!v && typeof v === "object" && "type" in v && "value" in v;
const fields = (v: unknown): Record<string, unknown> =>
  v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [String(k), x])) : v && typeof v === "object" ? (v as Record<string, unknown>) : {};
const bytesOf = (v: unknown, what: string): Uint8Array => {
  if (!(v instanceof Uint8Array)) throw new GobError(`${what} is not a gob-encoded value`);
  return v;
};

/** A cty.Type from its gob encoding. */
export function ctyType(bytes: Uint8Array): Type {
  const impl = fields(decodeGobValue(bytes)).Impl;
  if (!isIface(impl)) return T.dynamic;
  const name = impl.type.startsWith(CTY) ? impl.type.slice(CTY.length) : impl.type.slice(impl.type.lastIndexOf(".") + 1);
  const v = fields(impl.value);
  switch (name) {
    case "primitiveType":
      switch (Number(v.Kind)) {
        case 83:
          return T.string;
        case 78:
          return T.number;
        case 66:
          return T.bool;
      }
      throw new GobError(`unknown cty primitive kind ${String(v.Kind)}`);
    case "typeList":
      return T.list(ctyType(bytesOf(v.ElementTypeT, "a list's element type")));
    case "typeSet":
      return T.set(ctyType(bytesOf(v.ElementTypeT, "a set's element type")));
    case "typeMap":
      return T.map(ctyType(bytesOf(v.ElementTypeT, "a map's element type")));
    case "typeObject": {
      const attrs: Record<string, Type> = {};
      const m = v.AttrTypes instanceof Map ? v.AttrTypes : new Map();
      for (const [k, t] of m) attrs[String(k)] = ctyType(bytesOf(t, `attribute ${String(k)}'s type`));
      return T.object(attrs);
    }
    case "typeTuple":
      return T.tuple((Array.isArray(v.ElemTypes) ? v.ElemTypes : []).map((t: unknown) => ctyType(bytesOf(t, "a tuple element's type"))));
    case "pseudoTypeDynamic":
      return T.dynamic;
  }
  throw new GobError(`unsupported cty type ${impl.type}`);
}

/** A math/big.Float from its GobEncode bytes (version 1; mode|acc|form|neg; prec; exp; mantissa words). */
export function bigFloat(b: Uint8Array): Num {
  if (b.length < 6 || b[0] !== 1) throw new GobError("not a big.Float encoding");
  const form = (b[1]! >> 1) & 3;
  const neg = (b[1]! & 1) === 1;
  if (form === 0) return Num.ZERO;
  if (form !== 1) throw new GobError("an infinite number has no cty value");
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  const exp = view.getInt32(6);
  let mant = 0n;
  for (const byte of b.subarray(10)) mant = (mant << 8n) | BigInt(byte);
  // value = 0.mantissa * 2^exp, the mantissa's bits all after the binary point.
  return Num.make(neg ? -mant : mant, exp - (b.length - 10) * 8);
}

/** A cty.Value (a GobEncoder's payload, as the top value of Execute's gob stream) as an HCL value. */
export function ctyValueFromGob(bytes: Uint8Array): Value {
  const outer = decodeGobValue(bytes);
  const inner = fields(decodeGobValue(bytesOf(outer, "the value")));
  const type = inner.Ty instanceof Uint8Array ? ctyType(inner.Ty) : T.dynamic;
  return toValue(type, inner.V ?? null);
}

function toValue(type: Type, raw: unknown): Value {
  if (raw === null || raw === undefined) return V.null(type);
  if (!isIface(raw)) throw new GobError("a cty value's payload is not an interface value");
  const { type: goType, value } = raw;
  switch (type.kind) {
    case "string":
      return V.string(String(value));
    case "bool":
      return V.bool(value === true);
    case "number":
      return V.number(bigFloat(bytesOf(value, "a number")));
    case "list":
    case "set":
    case "tuple": {
      if (!Array.isArray(value)) throw new GobError(`a ${type.kind} value arrived as ${goType}`);
      const elems = value.map((e: unknown, i: number) => toValue(type.kind === "tuple" ? (type.elems[i] ?? T.dynamic) : type.elem, e));
      return type.kind === "tuple" ? V.tuple(elems) : type.kind === "list" ? V.list(elems, type.elem) : V.set(elems, type.elem);
    }
    case "map":
    case "object": {
      if (!(value instanceof Map)) throw new GobError(`an ${type.kind} value arrived as ${goType}`);
      const m = new Map<string, Value>();
      for (const [k, e] of value) m.set(String(k), toValue(type.kind === "map" ? type.elem : (type.attrs[String(k)] ?? T.dynamic), e));
      return type.kind === "map" ? V.map(m, type.elem) : V.object(m);
    }
    case "dynamic":
      break;
  }
  throw new GobError(`a value of cty type ${typeString(type)} arrived as ${goType}`);
}

/** cty's JSON type encoding of a JSON value's inferred type (nulls are left out of objects). */
function jsonType(v: JsonValue): JsonValue {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return ["tuple", v.map(jsonType)];
  if (v === null) return "dynamic";
  const attrs: Record<string, JsonValue> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) attrs[k] = jsonType(x);
  return ["object", attrs];
}

function withoutNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
    return out;
  }
  return v;
}

/** A decoded config as json.Marshal(v, cty.DynamicPseudoType) writes it: the bytes Configure takes. */
export function ctyJsonDynamic(config: JsonValue): Uint8Array {
  const value = withoutNulls(config);
  return new TextEncoder().encode(JSON.stringify({ value, type: jsonType(value) }));
}

/** A cty type from cty's JSON type encoding ("string", ["list", T], ["object", {...}], ...). */
export function ctyTypeFromJson(j: unknown): Type {
  switch (j) {
    case "string":
      return T.string;
    case "number":
      return T.number;
    case "bool":
      return T.bool;
    case "dynamic":
      return T.dynamic;
  }
  if (Array.isArray(j)) {
    const [kind, arg] = j as [unknown, unknown];
    if (kind === "list") return T.list(ctyTypeFromJson(arg));
    if (kind === "set") return T.set(ctyTypeFromJson(arg));
    if (kind === "map") return T.map(ctyTypeFromJson(arg));
    if (kind === "tuple" && Array.isArray(arg)) return T.tuple(arg.map(ctyTypeFromJson));
    if (kind === "object" && arg && typeof arg === "object") {
      const attrs: Record<string, Type> = {};
      for (const [k, t] of Object.entries(arg)) attrs[k] = ctyTypeFromJson(t);
      return T.object(attrs);
    }
  }
  throw new Error(`unsupported cty type ${JSON.stringify(j)}`);
}

/** Execute's value in protocol v2: msgpack.Marshal(v, cty.DynamicPseudoType). */
export function ctyValueFromMsgpack(bytes: Uint8Array): Value {
  return fromMsgpack(T.dynamic, msgpack().decode(bytes, { useBigInt64: false }));
}

function fromMsgpack(type: Type, raw: unknown): Value {
  if (raw instanceof msgpack().ExtData) return V.unknown(type);
  if (type.kind === "dynamic") {
    if (raw === null) return V.null();
    if (!Array.isArray(raw) || raw.length !== 2 || !(raw[0] instanceof Uint8Array)) throw new Error("a dynamic value without its type");
    return fromMsgpack(ctyTypeFromJson(JSON.parse(new TextDecoder().decode(raw[0]))), raw[1]);
  }
  if (raw === null || raw === undefined) return V.null(type);
  const wrong = () => new Error(`a ${typeString(type)} value arrived as ${JSON.stringify(raw)}`);
  switch (type.kind) {
    case "string":
      if (typeof raw !== "string") throw wrong();
      return V.string(raw);
    case "bool":
      if (typeof raw !== "boolean") throw wrong();
      return V.bool(raw);
    case "number": {
      const n = typeof raw === "number" ? Num.fromNumber(raw) : typeof raw === "string" ? Num.parse(raw) : undefined;
      if (!n) throw wrong();
      return V.number(n);
    }
    case "list":
    case "set":
    case "tuple": {
      if (!Array.isArray(raw)) throw wrong();
      const elems = raw.map((e: unknown, i: number) => fromMsgpack(type.kind === "tuple" ? (type.elems[i] ?? T.dynamic) : type.elem, e));
      return type.kind === "tuple" ? V.tuple(elems) : type.kind === "list" ? V.list(elems, type.elem) : V.set(elems, type.elem);
    }
    case "map":
    case "object": {
      if (typeof raw !== "object" || Array.isArray(raw) || raw instanceof Uint8Array) throw wrong();
      const m = new Map<string, Value>();
      for (const [k, e] of raw instanceof Map ? raw : Object.entries(raw)) m.set(String(k), fromMsgpack(type.kind === "map" ? type.elem : (type.attrs[String(k)] ?? T.dynamic), e));
      return type.kind === "map" ? V.map(m, type.elem) : V.object(m);
    }
  }
}
