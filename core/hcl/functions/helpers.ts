// Small helpers for defining functions: parameter shorthands and argument checks.
import { FunctionError, type FuncParam, type HclFunction } from "../context.ts";
import { convert, unify } from "../convert.ts";
import { Num } from "../num.ts";
import { T, type Type } from "../types.ts";
import { V, Value } from "../value.ts";

export { FunctionError };

export function p(name: string, type: Type, opts: Omit<FuncParam, "name" | "type"> = {}): FuncParam {
  return { name, type, ...opts };
}

export function fn(
  params: FuncParam[],
  impl: (args: Value[]) => Value,
  extra: { varParam?: FuncParam; returnType?: (args: Value[]) => Type } = {},
): HclFunction {
  return { params, impl, ...extra };
}

export const str = (v: Value): string => v.str;
export const num = (v: Value): Num => v.num;

/** An integer argument (functions that index or count). */
export function int(v: Value, argIndex?: number, what = "value"): number {
  const n = v.num;
  if (!n.isInteger()) throw new FunctionError(`${what} must be a whole number`, argIndex);
  const i = n.toSafeInteger();
  if (i === undefined) throw new FunctionError(`${what} is too large`, argIndex);
  return i;
}

export function isSeq(v: Value): boolean {
  const k = v.type.kind;
  return k === "list" || k === "set" || k === "tuple";
}
export function isMapLike(v: Value): boolean {
  const k = v.type.kind;
  return k === "map" || k === "object";
}

/** A list from values, unifying element types (falls back to a tuple when they do not unify). */
export function listOf(vals: Value[], elem?: Type): Value {
  if (vals.length === 0) return V.list([], elem ?? T.dynamic);
  const u = elem ?? unify(vals.map((v) => v.type));
  if (!u) return V.tuple(vals);
  return new Value(T.list(u), vals.map((v) => convert(v, u)));
}

export function setOf(vals: Value[], elem?: Type): Value {
  if (vals.length === 0) return V.set([], elem ?? T.dynamic);
  const u = elem ?? unify(vals.map((v) => v.type));
  if (!u) throw new FunctionError("set elements must have a consistent type");
  return V.set(
    vals.map((v) => convert(v, u)),
    u,
  );
}

/** A sequence of the same kind as `like` (list stays list, tuple stays tuple). */
export function sameSeq(like: Value, vals: Value[]): Value {
  if (like.type.kind === "tuple") return V.tuple(vals);
  if (like.type.kind === "set") return setOf(vals, (like.type as { elem: Type }).elem);
  return listOf(vals, (like.type as { elem: Type }).elem);
}

/** Text segmentation by grapheme clusters, as cty does for string length/substr/reverse. */
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
export function graphemes(s: string): string[] {
  return Array.from(segmenter.segment(s), (x) => x.segment);
}

export const listOfString = T.list(T.string);

/**
 * Characters and elements in a value counted as a whole (shared parts counted every time they
 * appear), stopping as soon as the count passes `stopAt`: what encoding or flattening it would build.
 */
export function builtSize(v: Value, stopAt: number): number {
  let total = 0;
  const stack: Value[] = [v];
  while (stack.length > 0 && total <= stopAt) {
    const x = stack.pop()!;
    if (!x.isKnown || x.isNull) continue;
    const k = x.type.kind;
    if (k === "string") total += x.str.length;
    else if (k === "list" || k === "set" || k === "tuple") {
      total += x.elems.length;
      stack.push(...x.elems);
    } else if (k === "map" || k === "object") {
      total += x.attrs.size;
      for (const [key, e] of x.attrs) {
        total += key.length;
        stack.push(e);
      }
    } else total += 1;
  }
  return total;
}
