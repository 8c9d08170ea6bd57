// Collection functions (cty stdlib / Packer semantics).
import type { HclFunction } from "../context.ts";
import { convert, unify } from "../convert.ts";
import { checkCollectionLength } from "../../values/limits.ts";
import { T, type Type } from "../types.ts";
import { V, Value, rawEquals, valueEquals, compareKeys } from "../value.ts";
import { FunctionError, fn, graphemes, int, isMapLike, isSeq, listOf, p, sameSeq, setOf } from "./helpers.ts";

function needSeq(v: Value, i: number, what = "a list, set or tuple"): readonly Value[] {
  if (!isSeq(v)) throw new FunctionError(`must be ${what}`, i);
  return v.elems;
}
function needMap(v: Value, i: number): ReadonlyMap<string, Value> {
  if (!isMapLike(v)) throw new FunctionError("must be a map or object", i);
  return v.attrs;
}

function elemType(v: Value): Type | undefined {
  const t = v.type;
  return t.kind === "list" || t.kind === "set" || t.kind === "map" ? t.elem : undefined;
}

const dyn = T.dynamic;

export const collectionFunctions: Record<string, HclFunction> = {
  length: fn([p("value", dyn, { allowNull: false })], ([v]) => {
    const a = v!;
    if (a.type.kind === "string") return V.number(graphemes(a.str).length);
    if (isSeq(a)) return V.number(a.elems.length);
    if (isMapLike(a)) return V.number(a.attrs.size);
    throw new FunctionError("argument must be a string, a collection type, or a structural type", 0);
  }, { returnType: () => T.number }),
  chunklist: fn([p("list", T.list(dyn)), p("size", T.number)], ([l, n]) => {
    const size = int(n!, 1, "size");
    if (size < 0) throw new FunctionError("the size argument must be positive", 1);
    const e = l!.elems;
    const et = (l!.type as { elem: Type }).elem;
    if (size === 0) return V.list([l!], l!.type);
    const out: Value[] = [];
    for (let i = 0; i < e.length; i += size) out.push(V.list(e.slice(i, i + size), et));
    return V.list(out, T.list(et));
  }),
  coalesce: fn(
    [],
    (args) => {
      const u = unify(args.map((a) => a.type));
      if (!u) throw new FunctionError("all arguments must have the same type");
      for (const a of args) {
        if (a.isNull) continue;
        if (a.type.kind === "string" && a.str === "") continue;
        return convert(a, u);
      }
      throw new FunctionError("no non-null, non-empty-string arguments");
    },
    { varParam: p("vals", dyn, { allowNull: true }) },
  ),
  coalescelist: fn(
    [],
    (args) => {
      for (const [i, a] of args.entries()) {
        if (a.isNull) continue;
        if (needSeq(a, i).length > 0) return a;
      }
      throw new FunctionError("no non-null arguments");
    },
    { varParam: p("vals", dyn, { allowNull: true }) },
  ),
  compact: fn([p("list", T.list(T.string))], ([l]) =>
    V.list(
      l!.elems.filter((e) => !e.isNull && e.str !== ""),
      T.string,
    ),
  ),
  concat: fn(
    [],
    (args) => {
      const all: Value[] = [];
      const seqs = args.map((a, i) => needSeq(a, i, "a list or tuple"));
      checkCollectionLength(seqs.reduce((n, e) => n + e.length, 0), "the concatenated list");
      for (const e of seqs) for (const x of e) all.push(x);
      const lists = args.every((a) => a.type.kind === "list");
      if (lists) {
        const u = unify(args.map((a) => (a.type as { elem: Type }).elem));
        if (u) return V.list(all.map((v) => convert(v, u)), u);
      }
      return V.tuple(all);
    },
    { varParam: p("seqs", dyn) },
  ),
  contains: fn([p("list", dyn), p("value", dyn)], ([l, v]) => {
    const elems = isMapLike(l!) ? [...l!.attrs.values()] : needSeq(l!, 0);
    return V.bool(elems.some((e) => valueEquals(e, v!) === true));
  }),
  distinct: fn([p("list", T.list(dyn))], ([l]) => {
    const out: Value[] = [];
    for (const e of l!.elems) if (!out.some((o) => rawEquals(o, e))) out.push(e);
    return V.list(out, (l!.type as { elem: Type }).elem);
  }),
  element: fn([p("list", dyn), p("index", T.number)], ([l, i]) => {
    const e = needSeq(l!, 0);
    if (e.length === 0) throw new FunctionError("cannot use element function with an empty list");
    const idx = int(i!, 1, "index");
    if (idx < 0) throw new FunctionError("cannot use element function with a negative index", 1);
    return e[idx % e.length]!;
  }),
  flatten: fn([p("list", dyn)], ([l]) => {
    const out: Value[] = [];
    const walk = (v: Value) => {
      for (const e of v.elems) {
        if (!e.isNull && isSeq(e)) walk(e);
        else {
          out.push(e);
          checkCollectionLength(out.length, "the flattened list");
        }
      }
    };
    needSeq(l!, 0);
    walk(l!);
    return l!.type.kind === "tuple" ? V.tuple(out) : listOf(out);
  }),
  index: fn([p("list", dyn), p("value", dyn)], ([l, v]) => {
    const e = needSeq(l!, 0);
    const i = e.findIndex((x) => valueEquals(x, v!) === true);
    if (i < 0) throw new FunctionError("item not found");
    return V.number(i);
  }),
  keys: fn([p("inputMap", dyn)], ([m]) => {
    const ks = [...needMap(m!, 0).keys()].map(V.string);
    return m!.type.kind === "map" ? V.list(ks, T.string) : V.tuple(ks);
  }),
  values: fn([p("mapping", dyn)], ([m]) => {
    const vs = [...needMap(m!, 0).values()];
    return m!.type.kind === "map" ? V.list(vs, (m!.type as { elem: Type }).elem) : V.tuple(vs);
  }),
  lookup: fn(
    [p("inputMap", dyn), p("key", T.string)],
    ([m, k, d]) => {
      const e = needMap(m!, 0).get(k!.str);
      if (e) return e;
      if (d) return d;
      throw new FunctionError(`lookup failed to find key ${JSON.stringify(k!.str)}`);
    },
    { varParam: p("default", dyn, { allowNull: true }) },
  ),
  merge: fn(
    [],
    (args) => {
      const out = new Map<string, Value>();
      let allMaps = true;
      args.forEach((a, i) => {
        if (a.isNull) return;
        if (a.type.kind !== "map") allMaps = false;
        for (const [k, v] of needMap(a, i)) out.set(k, v);
      });
      if (allMaps && out.size > 0) {
        const u = unify([...out.values()].map((v) => v.type));
        if (u) return V.map(new Map([...out].map(([k, v]) => [k, convert(v, u)])), u);
      }
      return V.object(out);
    },
    { varParam: p("maps", dyn, { allowNull: true }) },
  ),
  range: fn(
    [],
    (args) => {
      if (args.length < 1 || args.length > 3) throw new FunctionError("must have one, two, or three arguments");
      let start = 0;
      let limit: number;
      let step = 1;
      const n = args.map((a) => a.num.toNumber());
      if (n.length === 1) limit = n[0]!;
      else {
        start = n[0]!;
        limit = n[1]!;
        if (n.length === 3) step = n[2]!;
        else if (limit < start) step = -1;
      }
      if (step === 0) throw new FunctionError("step must not be zero");
      if (step < 0 && limit > start) throw new FunctionError("step must be positive when start is less than limit");
      if (step > 0 && limit < start) throw new FunctionError("step must be negative when start is greater than limit");
      const out: Value[] = [];
      for (let x = start; step > 0 ? x < limit : x > limit; x += step) {
        if (out.length >= 1024) throw new FunctionError("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step");
        out.push(V.number(x));
      }
      return V.list(out, T.number);
    },
    { varParam: p("params", T.number) },
  ),
  reverse: fn([p("list", dyn)], ([l]) => sameSeq(l!, [...needSeq(l!, 0)].reverse())),
  setintersection: fn(
    [p("first_set", T.set(dyn))],
    ([first, ...rest]) => {
      let out = [...first!.elems];
      for (const s of rest) out = out.filter((e) => s!.elems.some((x) => valueEquals(x, e) === true));
      return setOf(out, elemType(first!));
    },
    { varParam: p("other_sets", T.set(dyn)) },
  ),
  setunion: fn(
    [p("first_set", T.set(dyn))],
    (sets) => {
      const all = sets.flatMap((s) => [...s.elems]);
      const u = unify(sets.map((s) => elemType(s) ?? dyn).filter((t) => t.kind !== "dynamic")) ?? dyn;
      return setOf(all, all.length ? unify(all.map((v) => v.type)) : u);
    },
    { varParam: p("other_sets", T.set(dyn)) },
  ),
  setproduct: fn(
    [],
    (sets) => {
      if (sets.length < 2) throw new FunctionError("at least two arguments are required");
      checkCollectionLength(sets.reduce((n, s) => n * s.elems.length, 1), "the set product");
      let acc: Value[][] = [[]];
      sets.forEach((s, i) => {
        const e = needSeq(s, i);
        const next: Value[][] = [];
        for (const a of acc) for (const x of e) next.push([...a, x]);
        acc = next;
      });
      const tuples = acc.map((t) => {
        const u = unify(t.map((v) => v.type));
        return u ? V.list(t.map((v) => convert(v, u)), u) : V.tuple(t);
      });
      const allSets = sets.every((s) => s.type.kind === "set");
      return allSets ? setOf(tuples) : listOf(tuples);
    },
    { varParam: p("sets", dyn) },
  ),
  slice: fn([p("list", dyn), p("start_index", T.number), p("end_index", T.number)], ([l, s, e]) => {
    const elems = needSeq(l!, 0);
    const a = int(s!, 1, "start_index");
    const b = int(e!, 2, "end_index");
    if (a < 0) throw new FunctionError("the start index must not be less than zero", 1);
    if (b > elems.length) throw new FunctionError("the end index must not be greater than the length of the list", 2);
    if (a > b) throw new FunctionError("the start index must not be greater than the end index", 1);
    return sameSeq(l!, elems.slice(a, b));
  }),
  sort: fn([p("list", T.list(T.string))], ([l]) => {
    if (l!.elems.some((e) => e.isNull)) throw new FunctionError("given list element is null; a null string cannot be sorted", 0);
    return V.list([...l!.elems].sort((a, b) => compareKeys(a.str, b.str)), T.string);
  }),
  zipmap: fn([p("keys", T.list(T.string)), p("values", dyn)], ([k, v]) => {
    const ks = k!.elems;
    const vs = needSeq(v!, 1);
    if (ks.length !== vs.length) throw new FunctionError(`number of keys (${ks.length}) does not match number of values (${vs.length})`);
    const m = new Map<string, Value>();
    ks.forEach((key, i) => m.set(key.str, vs[i]!));
    return v!.type.kind === "list" ? V.map(m, (v!.type as { elem: Type }).elem) : V.object(m);
  }),
  sum: fn([p("list", dyn)], ([l]) => {
    const e = isMapLike(l!) ? [...l!.attrs.values()] : needSeq(l!, 0);
    if (e.length === 0) throw new FunctionError("cannot sum an empty list");
    let acc = convert(e[0]!, T.number).num;
    for (const x of e.slice(1)) acc = acc.add(convert(x, T.number).num);
    return V.number(acc);
  }),
};
