// cty types, values and hcldec specs as a Go plugin built with packer-plugin-sdk gob-encodes them:
// go-cty's cty/gob.go (gobType{Version, Impl}, gobValue{Version, Ty, V}, the internal types
// registered as github.com/zclconf/go-cty/cty.NAME, numbers as math/big.Float) and hcldec's
// ObjectSpec of *hcldec.AttrSpec (rpc/common.go registers them). For the test plugins only.
import { G, GobEncoder, type GobIface } from "./gob-encoder.ts";

// go-cty's gob shapes (cty/gob.go, types_to_register.go).
const CTY = "github.com/zclconf/go-cty/cty.";
const TypeT = G.gobencoder("Type");
const gobTypeT = G.struct("gobType", [["Version", G.int], ["Impl", G.iface]]);
const primitiveTypeT = G.struct("primitiveType", [["Kind", G.uint]]);
const typeListT = G.struct("typeList", [["ElementTypeT", TypeT]]);
const typeObjectT = G.struct("typeObject", [
  ["AttrTypes", G.map("", G.string, TypeT)],
  ["AttrOptional", G.map("", G.string, G.struct("", []))],
]);
const gobValueT = G.struct("gobValue", [["Version", G.int], ["Ty", TypeT], ["V", G.iface]]);
const ValueT = G.gobencoder("Value");
const FloatT = G.gobencoder("Float");
const ifaceMapT = G.map("", G.string, G.iface);
const ifaceSliceT = G.slice("", G.iface);

export type Cty = "string" | "number" | "bool" | ["list", Cty] | ["object", Record<string, Cty>];

/** cty.Type.GobEncode: a stream of its own holding gobType{Version: 0, Impl}. */
export function typeGob(t: Cty): Uint8Array {
  let impl: GobIface;
  if (typeof t === "string") impl = { name: `${CTY}primitiveType`, type: primitiveTypeT, value: { Kind: { string: 83, number: 78, bool: 66 }[t] } };
  else if (t[0] === "list") impl = { name: `${CTY}typeList`, type: typeListT, value: { ElementTypeT: typeGob(t[1]) } };
  else impl = { name: `${CTY}typeObject`, type: typeObjectT, value: { AttrTypes: new Map(Object.entries(t[1]).map(([k, a]) => [k, typeGob(a)])) } };
  return new GobEncoder().encode(gobTypeT, { Version: 0, Impl: impl }).bytes();
}

/** big.Float.GobEncode of an integer at cty's NumberIntVal precision (53). */
export function floatGob(n: number): Uint8Array {
  const head = [1, (1 << 3) | (n === 0 ? 0 : 1 << 1) | (n < 0 ? 1 : 0), 0, 0, 0, 53];
  if (n === 0) return new Uint8Array(head);
  const abs = BigInt(Math.abs(n));
  const bits = abs.toString(2).length;
  const word = abs << BigInt(64 - bits);
  const out = [...head, (bits >>> 24) & 0xff, (bits >>> 16) & 0xff, (bits >>> 8) & 0xff, bits & 0xff];
  for (let i = 7; i >= 0; i--) out.push(Number((word >> BigInt(8 * i)) & 0xffn));
  return new Uint8Array(out);
}

/** cty's internal payload of a value as the interface gobValue.V holds. */
function payload(t: Cty, v: unknown): GobIface | null {
  if (v === null) return null;
  if (t === "string") return { name: "string", type: G.string, value: v };
  if (t === "bool") return { name: "bool", type: G.bool, value: v };
  if (t === "number") return { name: "math/big.Float", type: FloatT, value: floatGob(v as number) };
  if (t[0] === "list") return { name: "[]interface {}", type: ifaceSliceT, value: (v as unknown[]).map((e) => payload(t[1], e)) };
  const attrs = t[1];
  return { name: "map[string]interface {}", type: ifaceMapT, value: new Map(Object.entries(attrs).map(([k, a]) => [k, payload(a, (v as Record<string, unknown>)[k] ?? null)])) };
}

/** gob.NewEncoder(b).Encode(value) of a cty.Value, as DatasourceServer.Execute replies it. */
export function valueGob(t: Cty, v: unknown): Uint8Array {
  const inner = new GobEncoder().encode(gobValueT, { Version: 0, Ty: typeGob(t), V: payload(t, v) }).bytes();
  return new GobEncoder().encode(ValueT, inner).bytes();
}

/** gob of an hcldec.ObjectSpec of AttrSpecs (map[string]hcldec.Spec holding *hcldec.AttrSpec). */
const AttrSpecT = G.struct("AttrSpec", [["Name", G.string], ["Type", TypeT], ["Required", G.bool]]);
const ObjectSpecT = G.map("ObjectSpec", G.string, G.iface);
export function objectSpecGob(attrs: Record<string, { type: Cty; required?: boolean }>): Uint8Array {
  const m = new Map<string, GobIface>();
  for (const [k, a] of Object.entries(attrs)) {
    m.set(k, { name: "*github.com/hashicorp/hcl/v2/hcldec.AttrSpec", type: AttrSpecT, value: { Name: k, Type: typeGob(a.type), Required: a.required === true } });
  }
  return new GobEncoder().encode(ObjectSpecT, m).bytes();
}

