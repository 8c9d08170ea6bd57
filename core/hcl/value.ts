// HCL values (cty-like). A Value has a type and a payload; null and unknown are payload states
// that any type can have. Marks (e.g. "sensitive") travel with values through operations so the
// caller can print `<sensitive>` later.
import type { JsonValue } from "../values/json.ts";
import { Num } from "./num.ts";
import { T, type Type, typeEquals, isPrimitive } from "./types.ts";

export const UNKNOWN: unique symbol = Symbol("unknown");

export type Payload = null | typeof UNKNOWN | string | Num | boolean | readonly Value[] | ReadonlyMap<string, Value>;

const depths = new WeakMap<Value, number>();

export class Value {
  constructor(
    readonly type: Type,
    readonly raw: Payload,
    readonly marks?: ReadonlySet<string>,
  ) {}

  /**
   * Levels of collections in this value (1 for a flat list, 0 for a primitive), cached outside the
   * value (so values still compare structurally): values are built bottom-up, so each costs a look
   * at its direct children only.
   */
  get depth(): number {
    let d = depths.get(this);
    if (d === undefined) {
      d = 0;
      const r = this.raw;
      if (Array.isArray(r)) for (const e of r as readonly Value[]) d = Math.max(d, e.depth + 1);
      else if (r instanceof Map) for (const e of (r as ReadonlyMap<string, Value>).values()) d = Math.max(d, e.depth + 1);
      depths.set(this, d);
    }
    return d;
  }

  get isNull(): boolean {
    return this.raw === null;
  }
  get isKnown(): boolean {
    return this.raw !== UNKNOWN;
  }
  get isMarked(): boolean {
    return !!this.marks && this.marks.size > 0;
  }
  hasMark(m: string): boolean {
    return !!this.marks?.has(m);
  }
  /** Payload accessors (caller has checked the type and known/null state). */
  get str(): string {
    return this.raw as string;
  }
  get num(): Num {
    return this.raw as Num;
  }
  get bool(): boolean {
    return this.raw as boolean;
  }
  /** Elements of a list, set or tuple. */
  get elems(): readonly Value[] {
    return this.raw as readonly Value[];
  }
  /** Attributes of an object or elements of a map. */
  get attrs(): ReadonlyMap<string, Value> {
    return this.raw as ReadonlyMap<string, Value>;
  }
  /** A new value with the given marks added. */
  mark(...marks: string[]): Value {
    if (marks.length === 0) return this;
    const s = new Set(this.marks ?? []);
    for (const m of marks) s.add(m);
    return new Value(this.type, this.raw, s);
  }
  withMarks(marks: ReadonlySet<string> | undefined): Value {
    if (!marks || marks.size === 0) return this;
    return this.mark(...marks);
  }
  /** The same value without its own marks (nested marks are kept). */
  unmark(): Value {
    return this.marks ? new Value(this.type, this.raw) : this;
  }
}

export const V = {
  string: (s: string): Value => new Value(T.string, s),
  number: (n: Num | number | bigint): Value =>
    new Value(T.number, n instanceof Num ? n : typeof n === "bigint" ? Num.fromBigInt(n) : Num.fromNumber(n)),
  bool: (b: boolean): Value => new Value(T.bool, b),
  null: (t: Type = T.dynamic): Value => new Value(t, null),
  unknown: (t: Type = T.dynamic): Value => new Value(t, UNKNOWN),
  true: new Value(T.bool, true),
  false: new Value(T.bool, false),
  tuple: (elems: Value[]): Value => new Value(T.tuple(elems.map((e) => e.type)), elems),
  object: (attrs: Record<string, Value> | Map<string, Value>): Value => {
    const m = attrs instanceof Map ? sortedMap(attrs) : sortedMap(new Map(Object.entries(attrs)));
    const types: Record<string, Type> = {};
    for (const [k, v] of m) types[k] = v.type;
    return new Value(T.object(types), m);
  },
  /** A list; elements must already share `elem` type (use convert for mixed input). */
  list: (elems: Value[], elem?: Type): Value => new Value(T.list(elem ?? elems[0]?.type ?? T.dynamic), elems),
  set: (elems: Value[], elem?: Type): Value => new Value(T.set(elem ?? elems[0]?.type ?? T.dynamic), dedupe(elems)),
  map: (attrs: Record<string, Value> | Map<string, Value>, elem?: Type): Value => {
    const m = attrs instanceof Map ? sortedMap(attrs) : sortedMap(new Map(Object.entries(attrs)));
    const first = m.values().next();
    return new Value(T.map(elem ?? (first.done ? T.dynamic : first.value.type)), m);
  },
};

export function sortedMap(m: ReadonlyMap<string, Value>): Map<string, Value> {
  const keys = [...m.keys()].sort(compareKeys);
  return new Map(keys.map((k) => [k, m.get(k)!]));
}

/** cty orders object attributes and map keys lexically by code point. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function dedupe(elems: Value[]): Value[] {
  const out: Value[] = [];
  for (const e of elems) if (!out.some((o) => rawEquals(o, e))) out.push(e);
  return out.sort((a, b) => compareSetElems(a, b));
}

/** cty orders sets of strings lexically, numbers numerically; other kinds keep a stable key order. */
function compareSetElems(a: Value, b: Value): number {
  if (a.type.kind === "number" && b.type.kind === "number" && a.isKnown && b.isKnown && !a.isNull && !b.isNull)
    return a.num.cmp(b.num);
  if (a.type.kind === "string" && b.type.kind === "string" && a.isKnown && b.isKnown && !a.isNull && !b.isNull)
    return compareKeys(a.str, b.str);
  return compareKeys(setKey(a), setKey(b));
}

function setKey(v: Value): string {
  return JSON.stringify(toJsonLoose(v));
}

/** Exact equality of type, payload and marks (cty RawEquals). */
export function rawEquals(a: Value, b: Value): boolean {
  if (!typeEquals(a.type, b.type)) return false;
  if ((a.marks?.size ?? 0) !== (b.marks?.size ?? 0)) return false;
  if (a.marks) for (const m of a.marks) if (!b.hasMark(m)) return false;
  if (a.raw === null || b.raw === null) return a.raw === b.raw;
  if (a.raw === UNKNOWN || b.raw === UNKNOWN) return a.raw === b.raw;
  switch (a.type.kind) {
    case "number":
      return a.num.eq(b.num);
    case "string":
    case "bool":
      return a.raw === b.raw;
    case "list":
    case "set":
    case "tuple":
      return a.elems.length === b.elems.length && a.elems.every((e, i) => rawEquals(e, b.elems[i]!));
    case "map":
    case "object": {
      if (a.attrs.size !== b.attrs.size) return false;
      for (const [k, v] of a.attrs) {
        const o = b.attrs.get(k);
        if (!o || !rawEquals(v, o)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Language-level equality (`==`): unknown if either side is unknown, false across different types,
 * structural for collections. Returns undefined for "unknown".
 */
export function valueEquals(a: Value, b: Value): boolean | undefined {
  if (!a.isKnown || !b.isKnown) return undefined;
  if (a.isNull || b.isNull) return a.isNull && b.isNull;
  const ka = a.type.kind;
  const kb = b.type.kind;
  if (isPrimitive(a.type) || isPrimitive(b.type)) {
    if (ka !== kb) return false;
    if (ka === "number") return a.num.eq(b.num);
    return a.raw === b.raw;
  }
  // cty: values of different types are never equal (no conversion happens for ==).
  if (!typeEquals(a.type, b.type)) return false;
  let unknown = false;
  if (ka === "list" || ka === "tuple" || ka === "set") {
    if (a.elems.length !== b.elems.length) return false;
    for (let i = 0; i < a.elems.length; i++) {
      const r = valueEquals(a.elems[i]!, b.elems[i]!);
      if (r === false) return false;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  }
  if (ka === "map" || ka === "object") {
    if (a.attrs.size !== b.attrs.size) return false;
    for (const [k, v] of a.attrs) {
      const o = b.attrs.get(k);
      if (!o) return false;
      const r = valueEquals(v, o);
      if (r === false) return false;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  }
  return false;
}

/** True when the value or anything inside it is unknown. */
export function containsUnknown(v: Value): boolean {
  if (v.raw === UNKNOWN) return true;
  if (v.raw === null) return false;
  switch (v.type.kind) {
    case "list":
    case "set":
    case "tuple":
      return v.elems.some(containsUnknown);
    case "map":
    case "object":
      for (const e of v.attrs.values()) if (containsUnknown(e)) return true;
      return false;
    default:
      return false;
  }
}

/** The union of the values' own marks (undefined when none has any), for an operation's result. */
export function marksOf(...vals: Value[]): Set<string> | undefined {
  let s: Set<string> | undefined;
  for (const v of vals) if (v.marks) for (const m of v.marks) (s ??= new Set()).add(m);
  return s;
}

/** All marks found anywhere in the value. */
export function deepMarks(v: Value, into: Set<string> = new Set()): Set<string> {
  if (v.marks) for (const m of v.marks) into.add(m);
  if (v.raw === null || v.raw === UNKNOWN) return into;
  switch (v.type.kind) {
    case "list":
    case "set":
    case "tuple":
      for (const e of v.elems) deepMarks(e, into);
      break;
    case "map":
    case "object":
      for (const e of v.attrs.values()) deepMarks(e, into);
      break;
  }
  return into;
}

/** The value with all marks removed at every level. */
export function unmarkDeep(v: Value): Value {
  const base = v.unmark();
  if (base.raw === null || base.raw === UNKNOWN) return base;
  switch (base.type.kind) {
    case "list":
    case "set":
    case "tuple":
      return base.elems.some((e) => e.marks || !isPrimitive(e.type))
        ? new Value(base.type, base.elems.map(unmarkDeep))
        : base;
    case "map":
    case "object": {
      const m = new Map<string, Value>();
      for (const [k, e] of base.attrs) m.set(k, unmarkDeep(e));
      return new Value(base.type, m);
    }
    default:
      return base;
  }
}

/** Converts a JSON-ish JS value into an HCL value (objects become objects, arrays tuples). */
export function fromJson(j: JsonValue | undefined): Value {
  if (j === null || j === undefined) return V.null();
  if (typeof j === "string") return V.string(j);
  if (typeof j === "number") return V.number(j);
  if (typeof j === "boolean") return V.bool(j);
  if (Array.isArray(j)) return V.tuple(j.map(fromJson));
  const m = new Map<string, Value>();
  for (const [k, e] of Object.entries(j)) m.set(k, fromJson(e));
  return V.object(m);
}

export class UnknownValueError extends Error {}

/** Converts a known value to JSON; numbers become JS numbers. Throws on unknown values. */
export function toJson(v: Value): JsonValue {
  if (v.raw === UNKNOWN) throw new UnknownValueError("value is not known yet");
  return toJsonLoose(v);
}

/** Like toJson, but unknown values become null instead of throwing. */
export function toJsonLoose(v: Value): JsonValue {
  return toJsonWithUnknown(v, () => null);
}

/** Converts a value to JSON, asking `unknown` what each unknown value (at any depth) becomes. */
export function toJsonWithUnknown(v: Value, unknown: (v: Value) => JsonValue): JsonValue {
  if (v.raw === UNKNOWN) return unknown(v);
  if (v.raw === null) return null;
  switch (v.type.kind) {
    case "string":
      return v.str;
    case "number":
      return v.num.toNumber();
    case "bool":
      return v.bool;
    case "list":
    case "set":
    case "tuple":
      return v.elems.map((e) => toJsonWithUnknown(e, unknown));
    case "map":
    case "object": {
      const o: Record<string, JsonValue> = {};
      for (const [k, e] of v.attrs) o[k] = toJsonWithUnknown(e, unknown);
      return o;
    }
    default:
      return null;
  }
}

/** Number of elements for collections/structurals. */
export function lengthOf(v: Value): number {
  switch (v.type.kind) {
    case "list":
    case "set":
    case "tuple":
      return v.elems.length;
    case "map":
    case "object":
      return v.attrs.size;
    default:
      return 0;
  }
}
