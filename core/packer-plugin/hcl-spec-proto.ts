// The protobuf form of an hcldec spec, as packer-plugin-sdk sends it to a core that started the
// plugin with --protobuf (rpc/hcl_spec.proto, rpc/convert.go): a Spec whose `object` holds a map of
// Specs, each an Attr{name, type, required}, a Block{name, required, nested} or a
// BlockList{name, nested}; cty types are CtyType{primitive{typeString: "cty.String"}, list, map}.
// Read with protobuf's wire format (varints, length-delimited fields); unknown fields are skipped.
import { T, type Type } from "../hcl/types.ts";
import type { SpecEntry } from "./hcl-spec.ts";

export class ProtobufError extends Error {
  constructor(message: string) {
    super(`protobuf: ${message}`);
    this.name = "ProtobufError";
  }
}

type Field = { n: number; varint?: bigint; bytes?: Uint8Array };

/** The fields of one message, in order. */
export function protobufFields(buf: Uint8Array): Field[] {
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new ProtobufError("truncated varint");
      if (shift > 63n) throw new ProtobufError("varint too long");
      const b = buf[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  const out: Field[] = [];
  while (pos < buf.length) {
    const key = varint();
    const n = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (n === 0) throw new ProtobufError("field number 0");
    if (wire === 0) out.push({ n, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new ProtobufError(`field ${n} runs past the end of the message`);
      out.push({ n, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      if (pos > buf.length) throw new ProtobufError("truncated fixed-size field");
    } else throw new ProtobufError(`wire type ${wire} of field ${n} is not used by these messages`);
  }
  return out;
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array(0));
const sub = (fs: Field[], n: number) => fs.filter((f) => f.n === n && f.bytes).at(-1)?.bytes;

function ctyType(buf: Uint8Array): Type {
  const fs = protobufFields(buf);
  const primitive = sub(fs, 1);
  if (primitive) {
    const name = text(sub(protobufFields(primitive), 1));
    const t = ({ "cty.String": T.string, "cty.Number": T.number, "cty.Bool": T.bool } as Record<string, Type>)[name];
    if (!t) throw new ProtobufError(`unknown primitive type ${JSON.stringify(name)}`);
    return t;
  }
  for (const [n, make] of [[2, T.list], [3, T.map]] as const) {
    const coll = sub(fs, n);
    if (coll) {
      const elem = sub(protobufFields(coll), 1);
      if (!elem) throw new ProtobufError("a collection type without its element type");
      return make(ctyType(elem));
    }
  }
  throw new ProtobufError("a CtyType with no type");
}

/** The keys of the object Spec a ConfigSpec or OutputSpec reply holds. */
export function protobufSpecEntries(bytes: Uint8Array): SpecEntry[] {
  const object = sub(protobufFields(bytes), 1);
  if (!object) throw new ProtobufError("the spec is not an object spec");
  const out: SpecEntry[] = [];
  for (const entry of protobufFields(object).filter((f) => f.n === 1 && f.bytes)) {
    const kv = protobufFields(entry.bytes!);
    const key = text(sub(kv, 1));
    const spec = protobufFields(sub(kv, 2) ?? new Uint8Array(0));
    const attr = sub(spec, 2);
    if (attr) {
      const af = protobufFields(attr);
      let type: Type | undefined;
      const t = sub(af, 2);
      try {
        if (t) type = ctyType(t);
      } catch {
        // unreadable: left to the plugin
      }
      out.push({ key, kind: "attr", type, required: af.some((f) => f.n === 3 && f.varint === 1n) });
    } else if (sub(spec, 3)) out.push({ key, kind: "block", required: false });
    else out.push({ key, kind: "blocks", required: false });
  }
  return out;
}
