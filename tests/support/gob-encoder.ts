// A Go encoding/gob encoder for the test plugins that stand in for SDK-built ones, written from Go's
// src/encoding/gob/doc.go and encoder.go, so its streams have the shapes a Go plugin's have: type
// definitions sent before the value that first needs them, structs with zero fields left out, and
// the definitions an interface value needs flushed together with the part of the enclosing value
// already written (Encoder.sendTypeDescriptor writing state.b out as one message), which is what
// makes a real gob stream hard to read. Only what the tests send: no floats, no arrays.

export type GobType =
  | { kind: "bool" | "int" | "uint" | "bytes" | "string" | "interface" }
  | { kind: "struct"; name: string; fields: Array<{ name: string; type: GobType }> }
  | { kind: "map"; name: string; key: GobType; elem: GobType }
  | { kind: "slice"; name: string; elem: GobType }
  | { kind: "gobencoder"; name: string };

/** An interface value: the name its concrete type was registered under (gob.Register), and it. */
export interface GobIface {
  name: string;
  type: GobType;
  value: unknown;
}

export const G = {
  bool: { kind: "bool" } as GobType,
  int: { kind: "int" } as GobType,
  uint: { kind: "uint" } as GobType,
  bytes: { kind: "bytes" } as GobType,
  string: { kind: "string" } as GobType,
  iface: { kind: "interface" } as GobType,
  struct: (name: string, fields: Array<[string, GobType]>): GobType => ({ kind: "struct", name, fields: fields.map(([n, type]) => ({ name: n, type })) }),
  map: (name: string, key: GobType, elem: GobType): GobType => ({ kind: "map", name, key, elem }),
  slice: (name: string, elem: GobType): GobType => ({ kind: "slice", name, elem }),
  gobencoder: (name: string): GobType => ({ kind: "gobencoder", name }),
};

const BUILTIN_ID: Record<string, number> = { bool: 1, int: 2, uint: 3, bytes: 5, string: 6, interface: 8 };

function pushUint(b: number[], n: bigint | number): void {
  let v = BigInt(n);
  if (v < 128n) {
    b.push(Number(v));
    return;
  }
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  b.push(256 - bytes.length, ...bytes);
}

function pushInt(b: number[], n: number): void {
  const v = BigInt(n);
  pushUint(b, v < 0n ? (~v << 1n) | 1n : v << 1n);
}

function pushString(b: number[], s: string | Uint8Array): void {
  const bytes = typeof s === "string" ? new TextEncoder().encode(s) : s;
  pushUint(b, bytes.length);
  for (const x of bytes) b.push(x);
}

function isZero(type: GobType, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (type.kind) {
    case "bool":
      return v === false;
    case "int":
    case "uint":
      return v === 0;
    case "string":
      return v === "";
    case "bytes":
    case "gobencoder":
    case "slice":
      return (v as { length: number }).length === 0;
    default:
      // Structs are always sent; a non-nil map is sent even when empty.
      return false;
  }
}

/** One gob stream, as one Go gob.Encoder writes it. */
export class GobEncoder {
  private readonly out: number[] = [];
  private readonly writers: number[][] = [];
  private readonly ids = new Map<GobType, number>();
  private readonly sent = new Set<GobType>();
  private nextId = 65;

  /** Encoder.Encode of one value. */
  encode(type: GobType, value: unknown): this {
    const b: number[] = [];
    this.sendTypeDescriptor(this.writer(), b, type);
    pushInt(b, this.idOf(type));
    this.encodeTop(b, type, value);
    this.writeMessage(this.writer(), b);
    return this;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.out);
  }

  private writer(): number[] {
    return this.writers.at(-1) ?? this.out;
  }

  private idOf(type: GobType): number {
    return this.idOrDefine(type);
  }

  /** Writes b as one length-prefixed message to w and empties it. */
  private writeMessage(w: number[], b: number[]): void {
    pushUint(w, b.length);
    w.push(...b);
    b.length = 0;
  }

  private sendTypeDescriptor(w: number[], b: number[], type: GobType): void {
    if (type.kind in BUILTIN_ID || this.sent.has(type)) return;
    const id = this.idOrDefine(type);
    this.sent.add(type);
    pushInt(b, -id);
    this.encodeWireType(b, type, id);
    this.writeMessage(w, b);
    if (type.kind === "struct") for (const f of type.fields) this.sendTypeDescriptor(w, b, f.type);
    else if (type.kind === "slice") this.sendTypeDescriptor(w, b, type.elem);
    else if (type.kind === "map") {
      this.sendTypeDescriptor(w, b, type.key);
      this.sendTypeDescriptor(w, b, type.elem);
    }
  }

  /** wireType{ArrayT, SliceT, StructT, MapT, GobEncoderT, ...}: one field set, then its CommonType{Name, Id}. */
  private encodeWireType(b: number[], type: GobType, id: number): void {
    // CommonType{Name, Id} is field 0 of each xxxType: always sent. Go names a type by its
    // reflect Name(): unnamed types (map[string]interface {}, []interface {}) have none.
    const common = (name: string) => {
      pushUint(b, 1);
      if (name) {
        pushUint(b, 1);
        pushString(b, name);
      }
      pushUint(b, name ? 1 : 2);
      pushInt(b, id);
      pushUint(b, 0);
    };
    switch (type.kind) {
      case "slice":
        pushUint(b, 2);
        common(type.name);
        pushUint(b, 1);
        pushInt(b, this.idOrDefine(type.elem));
        pushUint(b, 0);
        break;
      case "struct":
        pushUint(b, 3);
        common(type.name);
        pushUint(b, 1);
        pushUint(b, type.fields.length);
        for (const f of type.fields) {
          pushUint(b, 1);
          pushString(b, f.name);
          pushUint(b, 1);
          pushInt(b, this.idOrDefine(f.type));
          pushUint(b, 0);
        }
        pushUint(b, 0);
        break;
      case "map":
        pushUint(b, 4);
        common(type.name);
        pushUint(b, 1);
        pushInt(b, this.idOrDefine(type.key));
        pushUint(b, 1);
        pushInt(b, this.idOrDefine(type.elem));
        pushUint(b, 0);
        break;
      case "gobencoder":
        pushUint(b, 5);
        common(type.name);
        pushUint(b, 0);
        break;
      default:
        throw new Error(`no wire type for ${type.kind}`);
    }
    pushUint(b, 0);
  }

  /** Go assigns ids to component types as it builds the parent's wire type; so do we. */
  private idOrDefine(type: GobType): number {
    if (type.kind in BUILTIN_ID) return BUILTIN_ID[type.kind]!;
    let id = this.ids.get(type);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(type, id);
    }
    return id;
  }

  /** A top-level (or interface's) value: non-structs are a singleton field with delta 0. */
  private encodeTop(b: number[], type: GobType, value: unknown): void {
    if (type.kind !== "struct") pushUint(b, 0);
    this.encodeValue(b, type, value);
  }

  private encodeValue(b: number[], type: GobType, v: unknown): void {
    switch (type.kind) {
      case "bool":
        pushUint(b, v ? 1 : 0);
        return;
      case "int":
        pushInt(b, Number(v));
        return;
      case "uint":
        pushUint(b, Number(v));
        return;
      case "string":
        pushString(b, String(v));
        return;
      case "bytes":
      case "gobencoder":
        pushString(b, v as Uint8Array);
        return;
      case "interface":
        this.encodeInterface(b, v as GobIface | null);
        return;
      case "slice": {
        const items = v as unknown[];
        pushUint(b, items.length);
        for (const x of items) this.encodeValue(b, type.elem, x);
        return;
      }
      case "map": {
        const m = v as Map<unknown, unknown>;
        pushUint(b, m.size);
        for (const [k, x] of m) {
          this.encodeValue(b, type.key, k);
          this.encodeValue(b, type.elem, x);
        }
        return;
      }
      case "struct": {
        const o = v as Record<string, unknown>;
        let last = -1;
        type.fields.forEach((f, i) => {
          if (isZero(f.type, o[f.name])) return;
          pushUint(b, i - last);
          last = i;
          this.encodeValue(b, f.type, o[f.name]);
        });
        pushUint(b, 0);
      }
    }
  }

  /** Encoder.encodeInterface: name, the type's definitions (flushing b), its id, then the value as a message. */
  private encodeInterface(b: number[], iv: GobIface | null): void {
    if (!iv) {
      pushUint(b, 0);
      return;
    }
    pushString(b, iv.name);
    this.sendTypeDescriptor(this.writer(), b, iv.type);
    pushInt(b, this.idOf(iv.type));
    this.writers.push(b);
    const data: number[] = [];
    this.encodeTop(data, iv.type, iv.value);
    this.writers.pop();
    this.writeMessage(b, data);
  }
}
