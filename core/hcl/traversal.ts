// Traversing values (HCL's traversal.go and the GetAttr / Index operations of ops.go): a scope
// traversal against the evaluation context's variables, attribute access and indexing, each with
// HCL's diagnostics. The evaluator (eval.ts) uses these for traversals, relative traversals and index
// expressions.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { Traversal, TraverseStep } from "./ast.ts";
import { nameSuggestion, type EvalContext } from "./context.ts";
import { ConversionError, convert } from "./convert.ts";
import { T, friendlyName } from "./types.ts";
import { V, marksOf, type Value } from "./value.ts";

function err(diags: Diagnostic[], summary: string, range: SourceRange, detail: string): void {
  diags.push(errorDiag(summary, range, detail));
}

/** A scope traversal (`var.a.b[0]`) against the context's variables (hcl.Traversal.TraverseAbs). */
export function traverseAbs(t: Traversal, ctx: EvalContext | undefined, diags: Diagnostic[]): Value {
  if (!ctx || !ctx.hasVariables()) {
    err(diags, "Variables not allowed", t.rootRange, "Variables may not be used here.");
    return V.unknown();
  }
  let v = ctx.lookupVariable(t.root);
  if (v === undefined) {
    const s = nameSuggestion(t.root, ctx.allVariableNames());
    err(diags, "Unknown variable", t.rootRange, `There is no variable named ${JSON.stringify(t.root)}.${s ? ` Did you mean ${JSON.stringify(s)}?` : ""}`);
    return V.unknown();
  }
  for (const s of t.steps) v = traverseStep(v, s, diags);
  return v;
}

/** One step of a traversal: an attribute or a static index. */
export function traverseStep(v: Value, s: TraverseStep, diags: Diagnostic[]): Value {
  if (s.kind === "index") return index(v, s.key, s.range, diags);
  return getAttr(v, s.name, s.range, diags);
}

/** `v.name` (hcl.GetAttr): objects by attribute, maps by key. */
export function getAttr(v: Value, name: string, range: SourceRange, diags: Diagnostic[]): Value {
  const t = v.type;
  if (v.isNull) {
    err(diags, "Attempt to get attribute from null value", range, "This value is null, so it does not have any attributes.");
    return V.unknown();
  }
  if (t.kind === "dynamic") return V.unknown();
  if (t.kind === "object") {
    if (!(name in t.attrs)) {
      err(diags, "Unsupported attribute", range, `This object does not have an attribute named ${JSON.stringify(name)}.`);
      return V.unknown();
    }
    if (!v.isKnown) return V.unknown(t.attrs[name]!).withMarks(v.marks);
    return v.attrs.get(name)!.withMarks(v.marks);
  }
  if (t.kind === "map") {
    if (!v.isKnown) return V.unknown(t.elem).withMarks(v.marks);
    const e = v.attrs.get(name);
    if (!e) {
      err(diags, "Missing map element", range, `This map does not have an element with the key ${JSON.stringify(name)}.`);
      return V.unknown();
    }
    return e.withMarks(v.marks);
  }
  if (t.kind === "list" || t.kind === "set" || t.kind === "tuple") {
    err(diags, 
      "Unsupported attribute",
      range,
      `Can't access attributes on a ${t.kind === "tuple" ? "tuple" : friendlyName(t)}. Did you mean to access an attribute for a specific element of the ${t.kind === "tuple" ? "tuple" : "list"}, or across all elements of the ${t.kind === "tuple" ? "tuple" : "list"}?`,
    );
    return V.unknown();
  }
  err(diags, "Unsupported attribute", range, `Can't access attributes on a primitive-typed value (${t.kind}).`);
  return V.unknown();
}

/** `coll[key]` (hcl.Index): lists and tuples by number, maps and objects by string; sets have no index. */
export function index(coll: Value, key: Value, range: SourceRange, diags: Diagnostic[]): Value {
  const marks = marksOf(coll, key);
  const t = coll.type;
  if (coll.isNull) {
    err(diags, "Attempt to index null value", range, "This value is null, so it does not have any indices.");
    return V.unknown();
  }
  if (key.isNull) {
    err(diags, "Invalid index", range, "Can't use a null value as an indexing key.");
    return V.unknown();
  }
  if (t.kind === "dynamic") return V.unknown().withMarks(marks);
  if (t.kind === "list" || t.kind === "tuple") {
    let k: Value;
    try {
      k = convert(key.unmark(), T.number);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      err(diags, "Invalid index", range, "The given key does not identify an element in this collection value: a number is required.");
      return V.unknown();
    }
    if (!coll.isKnown || !k.isKnown) {
      return V.unknown(t.kind === "list" ? t.elem : T.dynamic).withMarks(marks);
    }
    const i = k.num.toSafeInteger();
    if (i === undefined || !k.num.isInteger()) {
      err(diags, "Invalid index", range, "The given key does not identify an element in this collection value: the given index is not a whole number.");
      return V.unknown();
    }
    const e = coll.elems[i];
    if (i < 0 || !e) {
      err(diags, "Invalid index", range, "The given key does not identify an element in this collection value: the given index is out of range.");
      return V.unknown();
    }
    return e.withMarks(marks);
  }
  if (t.kind === "map" || t.kind === "object") {
    let k: Value;
    try {
      k = convert(key.unmark(), T.string);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      err(diags, "Invalid index", range, "The given key does not identify an element in this collection value: string required.");
      return V.unknown();
    }
    if (!k.isKnown) return V.unknown(t.kind === "map" ? t.elem : T.dynamic).withMarks(marks);
    if (!coll.isKnown) {
      if (t.kind === "object" && !(k.str in t.attrs)) {
        err(diags, "Invalid index", range, "The given key does not identify an element in this collection value.");
        return V.unknown();
      }
      return V.unknown(t.kind === "map" ? t.elem : t.attrs[k.str]!).withMarks(marks);
    }
    const e = coll.attrs.get(k.str);
    if (!e) {
      err(diags, "Invalid index", range, "The given key does not identify an element in this collection value.");
      return V.unknown();
    }
    return e.withMarks(marks);
  }
  if (t.kind === "set") {
    err(diags, 
      "Invalid index",
      range,
      "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.",
    );
    return V.unknown();
  }
  err(diags, "Invalid index", range, `This value does not have any indices.`);
  return V.unknown();
}
