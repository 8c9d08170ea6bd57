// Type conversion and unification (cty/convert): what happens when a value meets a type
// constraint (attribute types, function parameters, variable types), and how mixed element
// types are reconciled (tuple → list(any), conditional results, for-expression results).
import { Num } from "./num.ts";
import { T, type Type, typeEquals, isPrimitive, friendlyName, hasDynamic } from "./types.ts";
import { UNKNOWN, V, Value, compareKeys, fromJson } from "./value.ts";
import type { JsonValue } from "../values/json.ts";

export class ConversionError extends Error {
  /** Path inside the value where conversion failed, e.g. ['a', 0]. */
  constructor(
    message: string,
    readonly path: Array<string | number> = [],
  ) {
    super(message);
  }
}

/** Converts `v` to `want` or throws a ConversionError (message like cty's). */
export function convert(v: Value, want: Type): Value {
  const out = convertInner(v, want, []);
  return out;
}

/** Like convert but returns undefined instead of throwing. */
export function tryConvert(v: Value, want: Type): Value | undefined {
  try {
    return convert(v, want);
  } catch (e) {
    if (e instanceof ConversionError) return undefined;
    throw e;
  }
}

function fail(msg: string, path: Array<string | number>): never {
  throw new ConversionError(msg, path);
}

function convertInner(v: Value, want: Type, path: Array<string | number>): Value {
  if (want.kind === "dynamic") return v;
  if (v.isNull) {
    // Null converts to null of the wanted type (dynamic wants keep it dynamic).
    return new Value(hasDynamic(want) ? want : want, null, v.marks);
  }
  if (!v.isKnown) return new Value(want, UNKNOWN, v.marks);
  if (typeEquals(v.type, want) && !hasDynamic(want)) return v;
  const marks = v.marks;
  const res = convertKnown(v.unmark(), want, path);
  return res.withMarks(marks);
}

function convertKnown(v: Value, want: Type, path: Array<string | number>): Value {
  const have = v.type;
  switch (want.kind) {
    case "string":
      if (have.kind === "string") return v;
      if (have.kind === "number") return V.string(v.num.toString());
      if (have.kind === "bool") return V.string(v.bool ? "true" : "false");
      return fail(`string required`, path);
    case "number":
      if (have.kind === "number") return v;
      if (have.kind === "string") {
        const n = parseNumberString(v.str);
        if (!n) return fail(`a number is required`, path);
        return V.number(n);
      }
      return fail(`number required`, path);
    case "bool":
      if (have.kind === "bool") return v;
      if (have.kind === "string") {
        // spec.md: "1" and "0" are alternative representations of true and false.
        if (v.str === "true" || v.str === "1") return V.true;
        if (v.str === "false" || v.str === "0") return V.false;
        return fail(`a bool is required`, path);
      }
      return fail(`bool required`, path);
    case "list":
    case "set": {
      let elems: readonly Value[];
      if (have.kind === "list" || have.kind === "set" || have.kind === "tuple") elems = v.elems;
      else return fail(`${want.kind} of ${friendlyName(want.elem)} required`, path);
      const converted = convertElems(elems, want.elem, path);
      const et = converted.type;
      return want.kind === "list" ? new Value(T.list(et), converted.elems) : V.set([...converted.elems], et);
    }
    case "map": {
      if (have.kind !== "map" && have.kind !== "object") return fail(`map of ${friendlyName(want.elem)} required`, path);
      const keys = [...v.attrs.keys()];
      const conv = convertElems(
        keys.map((k) => v.attrs.get(k)!),
        want.elem,
        path,
        keys,
      );
      const m = new Map<string, Value>();
      keys.forEach((k, i) => m.set(k, conv.elems[i]!));
      return new Value(T.map(conv.type), m);
    }
    case "tuple": {
      if (have.kind !== "tuple" && have.kind !== "list" && have.kind !== "set") return fail(`tuple required`, path);
      if (v.elems.length !== want.elems.length) return fail(`tuple required with ${want.elems.length} elements`, path);
      return V.tuple(v.elems.map((e, i) => convertInner(e, want.elems[i]!, [...path, i])));
    }
    case "object": {
      if (have.kind !== "object" && have.kind !== "map") return fail(`object required`, path);
      if (have.kind === "map") {
        // A map's keys must match the object's attributes exactly (spec.md).
        for (const k of v.attrs.keys()) if (!(k in want.attrs)) return fail(`unsupported attribute ${JSON.stringify(k)}`, path);
      }
      const m = new Map<string, Value>();
      const types: Record<string, Type> = {};
      for (const [name, at] of Object.entries(want.attrs)) {
        const src = v.attrs.get(name);
        if (!src) {
          if (want.optional?.has(name)) {
            const d = want.defaults?.[name];
            const dv = d instanceof Value ? convertInner(d, at, [...path, name]) : d !== undefined ? convertInner(fromJson(d as JsonValue), at, [...path, name]) : new Value(at, null);
            m.set(name, dv);
            types[name] = dv.type;
            continue;
          }
          return fail(`attribute ${JSON.stringify(name)} is required`, path);
        }
        let cv: Value;
        if (src.isNull && want.optional?.has(name) && want.defaults?.[name] !== undefined) {
          const d = want.defaults[name];
          cv = d instanceof Value ? convertInner(d, at, [...path, name]) : convertInner(fromJson(d as JsonValue), at, [...path, name]);
        } else cv = convertInner(src, at, [...path, name]);
        m.set(name, cv);
        types[name] = cv.type;
      }
      // Attributes the target does not declare are dropped, as cty does.
      return new Value(T.object(types), sortMap(m));
    }
    default:
      return v;
  }
}

function sortMap(m: Map<string, Value>): Map<string, Value> {
  return new Map([...m.entries()].sort((a, b) => compareKeys(a[0], b[0])));
}

/** Converts all elements to `elem`; if elem has `any`, first unifies the element types. */
function convertElems(
  elems: readonly Value[],
  elem: Type,
  path: Array<string | number>,
  keys?: string[],
): { type: Type; elems: Value[] } {
  let target = elem;
  if (hasDynamic(elem)) {
    const u = unify(elems.map((e) => e.type));
    if (!u) fail(`all ${keys ? "map" : "list"} elements must have the same type`, path);
    target = elem.kind === "dynamic" ? u! : mergeConstraint(elem, u!);
  }
  const out = elems.map((e, i) => convertInner(e, target, [...path, keys ? keys[i]! : i]));
  const t = out.length > 0 && target.kind === "dynamic" ? out[0]!.type : target;
  return { type: out.length === 0 && hasDynamic(target) ? (target.kind === "dynamic" ? T.dynamic : target) : t, elems: out };
}

/** Replaces `any` inside a constraint with the corresponding part of a concrete type. */
function mergeConstraint(c: Type, concrete: Type): Type {
  if (c.kind === "dynamic") return concrete;
  if ((c.kind === "list" || c.kind === "set" || c.kind === "map") && concrete.kind === c.kind)
    return { kind: c.kind, elem: mergeConstraint(c.elem, concrete.elem) };
  return c;
}

function parseNumberString(s: string): Num | undefined {
  try {
    return Num.parse(s);
  } catch {
    return undefined;
  }
}

/**
 * Finds one type all the given types convert to (cty's unify): identical types stay, mixed
 * primitives become string, objects with different attributes become maps, tuples of different
 * shapes become lists. Undefined when impossible.
 */
export function unify(types: Type[]): Type | undefined {
  if (types.length === 0) return T.dynamic;
  const first = types[0]!;
  if (types.every((t) => typeEquals(t, first))) return first;
  if (types.some((t) => t.kind === "dynamic")) {
    // cty: a dynamic member makes structural results unpredictable (→ any), but primitives
    // still unify to the other types' choice, since any value converts from `any`.
    const known = types.filter((t) => t.kind !== "dynamic");
    if (known.length > 0 && known.every(isPrimitive)) return unify(known);
    return T.dynamic;
  }
  if (types.every(isPrimitive)) {
    // number and bool both convert to string, but not to each other.
    if (types.some((t) => t.kind === "string")) return T.string;
    return undefined;
  }
  const kinds = new Set(types.map((t) => t.kind));
  if (kinds.size === 1) {
    const k = first.kind;
    if (k === "list" || k === "set" || k === "map") {
      const e = unify(types.map((t) => (t as Extract<Type, { elem: Type }>).elem));
      return e ? { kind: k, elem: e } : undefined;
    }
    if (k === "object") {
      const objs = types as Array<Extract<Type, { kind: "object" }>>;
      const names = Object.keys(objs[0]!.attrs).sort();
      const same = objs.every((o) => {
        const n = Object.keys(o.attrs).sort();
        return n.length === names.length && n.every((x, i) => x === names[i]);
      });
      if (same) {
        const attrs: Record<string, Type> = {};
        for (const n of names) {
          const u = unify(objs.map((o) => o.attrs[n]!));
          if (!u) return undefined;
          attrs[n] = u;
        }
        return T.object(attrs);
      }
      const all = objs.flatMap((o) => Object.values(o.attrs));
      const e = unify(all);
      return e ? T.map(e) : undefined;
    }
    if (k === "tuple") {
      const tups = types as Array<Extract<Type, { kind: "tuple" }>>;
      const len = tups[0]!.elems.length;
      if (tups.every((t) => t.elems.length === len)) {
        const elems: Type[] = [];
        for (let i = 0; i < len; i++) {
          const u = unify(tups.map((t) => t.elems[i]!));
          if (!u) return undefined;
          elems.push(u);
        }
        return T.tuple(elems);
      }
      const e = unify(tups.flatMap((t) => [...t.elems]));
      return e ? T.list(e) : undefined;
    }
  }
  // object + map → map; tuple + list → list
  if ([...kinds].every((k) => k === "object" || k === "map")) {
    const all = types.flatMap((t) => (t.kind === "object" ? Object.values(t.attrs) : t.kind === "map" ? [t.elem] : []));
    const e = unify(all);
    return e ? T.map(e) : undefined;
  }
  if ([...kinds].every((k) => k === "tuple" || k === "list")) {
    const all = types.flatMap((t) => (t.kind === "tuple" ? [...t.elems] : t.kind === "list" ? [t.elem] : []));
    const e = unify(all);
    return e ? T.list(e) : undefined;
  }
  return undefined;
}

/** Formats a conversion error like HCL/Terraform: `element 0: string required`, `attribute "a": ...`. */
export function conversionMessage(e: ConversionError): string {
  if (e.path.length === 0) return e.message;
  const p = e.path.map((s) => (typeof s === "number" ? `element ${s}` : `attribute ${JSON.stringify(s)}`)).join(": ");
  return `${p}: ${e.message}`;
}
