// What a packer-plugin-sdk plugin started with --protobuf sends instead of gob: hcldec specs as the
// protobuf messages of the SDK's rpc/hcl_spec.proto (rpc/convert.go ToProto) and Execute's value as
// go-cty's msgpack with the type alongside (cty/msgpack marshal.go, dynamic.go). For the test
// plugins only; written from protobuf's wire-format documentation and those sources.
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import type { Cty } from "./cty-gob.ts";

function varint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}
function bytesField(out: number[], field: number, payload: Uint8Array | number[]): void {
  varint(out, (field << 3) | 2);
  varint(out, payload.length);
  out.push(...payload);
}
const str = (s: string) => [...new TextEncoder().encode(s)];

/** CtyType{primitive{typeString: cType.GoString()} | list{elementType}} (objects cannot be sent). */
function ctyTypeProto(t: Cty): number[] {
  const out: number[] = [];
  if (typeof t === "string") {
    const p: number[] = [];
    bytesField(p, 1, str({ string: "cty.String", number: "cty.Number", bool: "cty.Bool" }[t]));
    bytesField(out, 1, p);
  } else if (t[0] === "list") {
    const l: number[] = [];
    bytesField(l, 1, ctyTypeProto(t[1]));
    bytesField(out, 2, l);
  } else throw new Error("the SDK's CtyType has no object types");
  return out;
}

/** proto.Marshal of Spec{object: Object{attributes: {NAME: Spec{attr: Attr{name, type, required}}}}}. */
export function objectSpecProto(attrs: Record<string, { type: Cty; required?: boolean }>): Uint8Array {
  const object: number[] = [];
  for (const [k, a] of Object.entries(attrs)) {
    const attr: number[] = [];
    bytesField(attr, 1, str(k));
    bytesField(attr, 2, ctyTypeProto(a.type));
    if (a.required) {
      varint(attr, (3 << 3) | 0);
      varint(attr, 1);
    }
    const spec: number[] = [];
    bytesField(spec, 2, attr);
    const entry: number[] = [];
    bytesField(entry, 1, str(k));
    bytesField(entry, 2, spec);
    bytesField(object, 1, entry);
  }
  const top: number[] = [];
  bytesField(top, 1, object);
  return new Uint8Array(top);
}

function typeJson(t: Cty): unknown {
  if (typeof t === "string") return t;
  if (t[0] === "list") return ["list", typeJson(t[1])];
  return ["object", Object.fromEntries(Object.entries(t[1]).map(([k, a]) => [k, typeJson(a)]))];
}

function plain(t: Cty, v: unknown): unknown {
  if (v === null || typeof t === "string") return v;
  if (t[0] === "list") return (v as unknown[]).map((e) => plain(t[1], e));
  // Objects: attributes in sorted order, each one there (null when unset).
  const attrs = t[1];
  return Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, plain(attrs[k]!, (v as Record<string, unknown>)[k] ?? null)]));
}

/** msgpack.Marshal(v, cty.DynamicPseudoType): [type JSON as bytes, the value]. */
export function valueMsgpack(t: Cty, v: unknown): Uint8Array {
  return encodeMsgpack([new TextEncoder().encode(JSON.stringify(typeJson(t))), plain(t, v)]);
}
