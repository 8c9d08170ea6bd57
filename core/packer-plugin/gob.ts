// A decoder for Go's encoding/gob streams, as far as Packer's plugin protocol uses them: the exit
// status a bridged command reports (rpc.CommandFinished) and the hcldec spec a plugin's ConfigSpec
// returns. Wire format: Go's src/encoding/gob/doc.go. Values decode to plain JS: structs to objects
// keyed by field name, slices and arrays to arrays, maps to Map, GobEncoder payloads to bytes, and
// interface values to { type: registeredName, value }.

export class GobError extends Error {
  constructor(message: string) {
    super(`gob: ${message}`);
    this.name = "GobError";
  }
}

type WireType =
  | { kind: "struct"; name: string; fields: Array<{ name: string; id: number }> }
  | { kind: "slice"; name: string; elem: number }
  | { kind: "array"; name: string; elem: number; len: number }
  | { kind: "map"; name: string; key: number; elem: number }
  | { kind: "gobencoder"; name: string };

export interface GobInterface {
  type: string;
  value: unknown;
}

// Predefined ids (doc.go): basic types, and the wire types that describe other types.
const BOOL = 1, INT = 2, UINT = 3, FLOAT = 4, BYTES = 5, STRING = 6, COMPLEX = 7, INTERFACE = 8;
const BUILTIN_WIRE: Record<number, WireType> = {
  16: { kind: "struct", name: "wireType", fields: [
    { name: "ArrayT", id: 17 }, { name: "SliceT", id: 19 }, { name: "StructT", id: 20 }, { name: "MapT", id: 23 },
    { name: "GobEncoderT", id: 24 }, { name: "BinaryMarshalerT", id: 24 }, { name: "TextMarshalerT", id: 24 },
  ] },
  17: { kind: "struct", name: "arrayType", fields: [{ name: "CommonType", id: 18 }, { name: "Elem", id: INT }, { name: "Len", id: INT }] },
  18: { kind: "struct", name: "CommonType", fields: [{ name: "Name", id: STRING }, { name: "Id", id: INT }] },
  19: { kind: "struct", name: "sliceType", fields: [{ name: "CommonType", id: 18 }, { name: "Elem", id: INT }] },
  20: { kind: "struct", name: "structType", fields: [{ name: "CommonType", id: 18 }, { name: "Field", id: 22 }] },
  21: { kind: "struct", name: "fieldType", fields: [{ name: "Name", id: STRING }, { name: "Id", id: INT }] },
  22: { kind: "slice", name: "[]*fieldType", elem: 21 },
  23: { kind: "struct", name: "mapType", fields: [{ name: "CommonType", id: 18 }, { name: "Key", id: INT }, { name: "Elem", id: INT }] },
  24: { kind: "struct", name: "gobEncoderType", fields: [{ name: "CommonType", id: 18 }] },
};

/**
 * The bytes of a whole gob stream, read one message at a time as Go's Decoder does: values read
 * from the current message, and only a type sequence (top level, or an interface's) pulls the next
 * message when the current one is used up. Go's encoder relies on that: it flushes a partly written
 * value together with the type definitions an interface inside it needs.
 */
class Reader {
  pos = 0;
  /** End of the current message. */
  end = 0;
  constructor(readonly buf: Uint8Array) {}
  get messageLeft(): number {
    return this.end - this.pos;
  }
  get streamLeft(): number {
    return this.buf.length - this.pos;
  }
  /** Start the next length-prefixed message. */
  nextMessage(): void {
    this.end = this.buf.length;
    const len = this.uintNum();
    if (this.pos + len > this.buf.length) throw new GobError(`message of ${len} bytes runs past the end of the data`);
    this.end = this.pos + len;
  }
  byte(): number {
    if (this.pos >= this.end) throw new GobError("unexpected end of message");
    return this.buf[this.pos++]!;
  }
  uint(): bigint {
    const b = this.byte();
    if (b < 0x80) return BigInt(b);
    const n = 256 - b;
    if (n > 8) throw new GobError("integer too long");
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.byte());
    return v;
  }
  uintNum(): number {
    const v = this.uint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GobError("count too large");
    return Number(v);
  }
  int(): bigint {
    const u = this.uint();
    return u & 1n ? ~(u >> 1n) : u >> 1n;
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new GobError("unexpected end of message");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const asNumber = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

/** Decodes every value of a complete gob stream (what one Go Encoder wrote). */
export function decodeGob(buf: Uint8Array): unknown[] {
  return new GobStream(new Reader(buf)).all();
}

/** Exactly one value. */
export function decodeGobValue(buf: Uint8Array): unknown {
  const values = decodeGob(buf);
  if (values.length !== 1) throw new GobError(`expected one value, got ${values.length}`);
  return values[0];
}

class GobStream {
  private types = new Map<number, WireType>(Object.entries(BUILTIN_WIRE).map(([k, v]) => [Number(k), v]));
  constructor(private readonly r: Reader) {}

  all(): unknown[] {
    const out: unknown[] = [];
    while (this.r.streamLeft > 0) {
      const id = this.typeSequence(false);
      if (id === undefined) break;
      out.push(this.topValue(id));
      if (this.r.messageLeft !== 0) throw new GobError(`${this.r.messageLeft} bytes left over after a value`);
    }
    return out;
  }

  /** Go's decodeTypeSequence: type definitions until a value's type id. */
  private typeSequence(isInterface: boolean): number | undefined {
    const r = this.r;
    for (;;) {
      if (r.messageLeft === 0) {
        if (r.streamLeft === 0) return undefined;
        r.nextMessage();
        if (r.messageLeft === 0) continue;
      }
      const id = Number(r.int());
      if (id >= 0) return id;
      this.defineType(-id);
      if (r.messageLeft > 0) {
        if (!isInterface) throw new GobError("extra data after a type definition");
        r.uint();
      }
    }
  }

  private topValue(id: number): unknown {
    if (this.types.get(id)?.kind !== "struct" && this.r.uint() !== 0n) throw new GobError("singleton value without a zero delta");
    return this.value(id);
  }

  private defineType(id: number): void {
    const wire = this.value(16) as Record<string, Record<string, unknown> | undefined>;
    const common = (x: Record<string, unknown> | undefined) => (x?.CommonType as { Name?: string } | undefined)?.Name ?? "";
    const num = (x: unknown) => Number(x ?? 0);
    let t: WireType;
    if (wire.StructT) {
      const fields = (wire.StructT.Field as Array<{ Name?: string; Id?: unknown }> | undefined) ?? [];
      t = { kind: "struct", name: common(wire.StructT), fields: fields.map((f) => ({ name: f.Name ?? "", id: num(f.Id) })) };
    } else if (wire.SliceT) t = { kind: "slice", name: common(wire.SliceT), elem: num(wire.SliceT.Elem) };
    else if (wire.ArrayT) t = { kind: "array", name: common(wire.ArrayT), elem: num(wire.ArrayT.Elem), len: num(wire.ArrayT.Len) };
    else if (wire.MapT) t = { kind: "map", name: common(wire.MapT), key: num(wire.MapT.Key), elem: num(wire.MapT.Elem) };
    else {
      const enc = wire.GobEncoderT ?? wire.BinaryMarshalerT ?? wire.TextMarshalerT;
      if (!enc) throw new GobError(`type ${id} has no known kind`);
      t = { kind: "gobencoder", name: common(enc) };
    }
    this.types.set(id, t);
  }

  private value(id: number): unknown {
    const r = this.r;
    switch (id) {
      case BOOL:
        return r.uint() !== 0n;
      case INT:
        return asNumber(r.int());
      case UINT:
        return asNumber(r.uint());
      case FLOAT:
        return floatOf(r.uint());
      case COMPLEX:
        return [floatOf(r.uint()), floatOf(r.uint())];
      case BYTES:
        return r.bytes(r.uintNum()).slice();
      case STRING:
        return new TextDecoder().decode(r.bytes(r.uintNum()));
      case INTERFACE:
        return this.interfaceValue();
    }
    const t = this.types.get(id);
    if (!t) throw new GobError(`undefined type id ${id}`);
    switch (t.kind) {
      case "struct": {
        const out: Record<string, unknown> = {};
        let field = -1;
        for (;;) {
          const delta = r.uintNum();
          if (delta === 0) return out;
          field += delta;
          const f = t.fields[field];
          if (!f) throw new GobError(`field ${field} out of range in ${t.name}`);
          out[f.name] = this.value(f.id);
        }
      }
      case "slice":
      case "array": {
        const n = r.uintNum();
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(t.elem));
        return out;
      }
      case "map": {
        const n = r.uintNum();
        const out = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.value(t.key);
          out.set(k, this.value(t.elem));
        }
        return out;
      }
      case "gobencoder":
        return r.bytes(r.uintNum()).slice();
    }
  }

  private interfaceValue(): GobInterface | null {
    const r = this.r;
    const nameLen = r.uintNum();
    if (nameLen === 0) return null;
    const name = new TextDecoder().decode(r.bytes(nameLen));
    const concrete = this.typeSequence(true);
    if (concrete === undefined) throw new GobError(`no value for interface of type ${name}`);
    r.uint(); // the value's byte count, for decoders that skip it
    return { type: name, value: this.topValue(concrete) };
  }
}

function floatOf(u: bigint): number {
  // The uint64 of Float64bits, byte-reversed on the wire.
  let rev = 0n;
  for (let i = 0; i < 8; i++) {
    rev = (rev << 8n) | ((u >> BigInt(8 * i)) & 0xffn);
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, rev);
  return view.getFloat64(0);
}
