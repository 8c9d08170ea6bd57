// Evaluates native-syntax expression nodes to values, collecting positioned diagnostics with
// HCL's summaries. Unknown values flow through operations as unknown results of the right type.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { Node } from "./ast.ts";
import { EvalContext, FunctionError, nameSuggestion, type HclFunction } from "./context.ts";
import { ConversionError, conversionMessage, convert, unify } from "./convert.ts";
import { NumError } from "./num.ts";
import { unionRange } from "../source/source-file.ts";
import { index, traverseAbs, traverseStep } from "./traversal.ts";
import { chargeWork, checkCollectionLength, checkStringLength, LimitError, LIMITS, nestingMessage } from "../values/limits.ts";
import { T, type Type, typeString } from "./types.ts";
import { UNKNOWN, V, Value, containsUnknown, deepMarks, marksOf, unmarkDeep, valueEquals } from "./value.ts";

type Anon = Map<number, Value>;

export function evaluateNode(node: Node, ctx: EvalContext | undefined): { value: Value; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const value = new Evaluator(diags).eval(node, ctx, new Map());
  return { value, diagnostics: diags };
}

class Evaluator {
  constructor(private readonly diags: Diagnostic[]) {}

  private err(summary: string, range: SourceRange | undefined, detail?: string): void {
    this.diags.push(errorDiag(summary, range, detail));
  }

  /**
   * Values nest through references too (`a1 = [local.a0]`, `a2 = [local.a1]`, …), past what the
   * parser's nesting limit sees: refuse a value nested deeper than LIMITS.maxNesting where it is built.
   */
  private shallowEnough(v: Value, range: SourceRange): Value {
    if (v.depth <= LIMITS.maxNesting) return v;
    this.err("Value too deep", range, `${nestingMessage("This value")}.`);
    return V.unknown();
  }

  /**
   * Charges `added` units of work and checks a value being built against the limits
   * (core/values/limits.ts); false (with a diagnostic at `range`) when it crossed one.
   */
  private withinLimits(range: SourceRange, added: number, check: () => void): boolean {
    try {
      check();
      chargeWork(added, "this expression");
      return true;
    } catch (e) {
      if (!(e instanceof LimitError)) throw e;
      this.err("Value too large", range, `${e.message}.`);
      return false;
    }
  }

  eval(n: Node, ctx: EvalContext | undefined, anon: Anon): Value {
    switch (n.kind) {
      case "literal":
        return n.value;
      case "parens":
        return this.eval(n.wrapped, ctx, anon);
      case "scopeTraversal":
        return traverseAbs(n.traversal, ctx, this.diags);
      case "relativeTraversal": {
        let v = this.eval(n.source, ctx, anon);
        for (const s of n.steps) {
          v = traverseStep(v, s, this.diags);
        }
        return v;
      }
      case "anon":
        return anon.get(n.id) ?? V.unknown();
      case "index": {
        const coll = this.eval(n.collection, ctx, anon);
        const key = this.eval(n.key, ctx, anon);
        return index(coll, key, n.bracketRange, this.diags);
      }
      case "splat":
        return this.splat(n, ctx, anon);
      case "call":
        return this.call(n, ctx, anon);
      case "conditional":
        return this.conditional(n, ctx, anon);
      case "binary":
        return this.binary(n, ctx, anon);
      case "unary":
        return this.unary(n, ctx, anon);
      case "tuple":
        return this.shallowEnough(V.tuple(n.items.map((i) => this.eval(i, ctx, anon))), n.range);
      case "object":
        return this.shallowEnough(this.object(n, ctx, anon), n.range);
      case "objectKey": {
        const w = n.wrapped;
        if (!n.forceNonLiteral && w.kind === "scopeTraversal" && w.traversal.steps.length === 0) {
          return V.string(w.traversal.root);
        }
        return this.eval(w, ctx, anon);
      }
      case "for":
        return this.shallowEnough(this.forExpr(n, ctx, anon), n.range);
      case "template":
        return this.template(n.parts, ctx, anon);
      case "templateWrap":
        return this.eval(n.wrapped, ctx, anon);
      case "templateIf": {
        const c = this.eval(n.cond, ctx, anon);
        const b = this.condBool(c, n.cond.range, "Invalid template directive condition");
        if (b === undefined) return V.unknown(T.string).withMarks(c.marks);
        if (b === null) return V.unknown(T.string);
        const chosen = b ? n.trueT : n.falseT;
        if (!chosen) return V.string("").withMarks(c.marks);
        return this.eval(chosen, ctx, anon).withMarks(c.marks);
      }
      case "templateFor":
        return this.templateFor(n, ctx, anon);
    }
  }

  private splat(n: Extract<Node, { kind: "splat" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    const src = this.eval(n.source, ctx, anon);
    const k = src.type.kind;
    const isSeq = k === "list" || k === "set" || k === "tuple";
    if (src.isNull) {
      // A null scalar becomes an empty tuple; a null sequence is an error.
      if (!isSeq) return V.tuple([]).withMarks(src.marks);
      this.err("Splat of null value", n.source.range, "Splat expressions (with the * symbol) cannot be applied to null sequences.");
      return V.unknown();
    }
    if (!src.isKnown) return V.unknown();
    const items = isSeq ? src.elems : [src.unmark()];
    const out: Value[] = [];
    for (const item of items) {
      const inner = new Map(anon);
      inner.set(n.item.id, item);
      out.push(this.eval(n.each, ctx, inner));
    }
    if (k === "list" || k === "set") {
      const u = unify(out.map((v) => v.type)) ?? T.dynamic;
      try {
        return new Value(T.list(u), out.map((v) => convert(v, u)), src.marks);
      } catch {
        return V.tuple(out).withMarks(src.marks);
      }
    }
    return V.tuple(out).withMarks(src.marks);
  }

  private call(n: Extract<Node, { kind: "call" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    if (!ctx || !ctx.hasFunctions()) {
      this.err("Function calls not allowed", n.nameRange, "Functions may not be called here.");
      return V.unknown();
    }
    const f = ctx.lookupFunction(n.name);
    if (!f) {
      const s = nameSuggestion(n.name, ctx.allFunctionNames());
      this.err("Call to unknown function", n.nameRange, `There is no function named ${JSON.stringify(n.name)}.${s ? ` Did you mean ${JSON.stringify(s)}?` : ""}`);
      return V.unknown();
    }
    if (f.lazy) {
      const lazyArgs = n.args.map((a) => ({
        range: a.range,
        node: a,
        evaluate: () => {
          const d: Diagnostic[] = [];
          const value = new Evaluator(d).eval(a, ctx, anon);
          return { value, diagnostics: d };
        },
      }));
      const r = f.lazy(lazyArgs, n.range);
      this.diags.push(...r.diagnostics);
      return r.value;
    }
    let args: Value[] = n.args.map((a) => this.eval(a, ctx, anon));
    let argRanges = n.args.map((a) => a.range);
    if (n.expandFinal && args.length > 0) {
      const last = args[args.length - 1]!;
      const lastRange = argRanges[argRanges.length - 1]!;
      const k = last.type.kind;
      if (last.isNull) {
        this.err("Invalid expanding argument value", lastRange, "The expanding argument (indicated by ...) must not be null.");
        return V.unknown();
      }
      if (!last.isKnown) return V.unknown();
      if (k !== "list" && k !== "set" && k !== "tuple") {
        this.err("Invalid expanding argument value", lastRange, "The expanding argument (indicated by ...) must be of a tuple, list, or set type.");
        return V.unknown();
      }
      args = [...args.slice(0, -1), ...last.elems.map((e) => e.withMarks(last.marks))];
      argRanges = [...argRanges.slice(0, -1), ...last.elems.map(() => lastRange)];
    }
    return callFunction(n.name, f, args, argRanges, n.range, this.diags, unionRange(n.nameRange, n.openParenRange));
  }

  private condBool(c: Value, range: SourceRange, summary: string): boolean | undefined | null {
    if (c.isNull) {
      this.err(summary === "Incorrect condition type" ? "Null condition" : summary, range, "The condition value is null. Conditions must either be true or false.");
      return null;
    }
    let b: Value;
    try {
      b = convert(c.unmark(), T.bool);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      this.err(summary, range, "The condition expression must be of type bool.");
      return null;
    }
    if (!b.isKnown) return undefined;
    return b.bool;
  }

  private conditional(n: Extract<Node, { kind: "conditional" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    const c = this.eval(n.cond, ctx, anon);
    // As HCL: both results are evaluated (for their types), but only the chosen one's problems are
    // reported — `x != null ? f(x) : y` must not fail when x is null.
    const before = this.diags.length;
    const tv = this.eval(n.trueExpr, ctx, anon);
    const trueDiags = this.diags.splice(before);
    const fv = this.eval(n.falseExpr, ctx, anon);
    const falseDiags = this.diags.splice(before);
    const keep = (which: "true" | "false" | "both") => {
      if (which !== "false") this.diags.push(...trueDiags);
      if (which !== "true") this.diags.push(...falseDiags);
    };
    let resultType: Type | undefined;
    const dynNull = (v: Value) => v.isNull && v.type.kind === "dynamic";
    if (dynNull(tv)) resultType = fv.type;
    else if (dynNull(fv)) resultType = tv.type;
    else if (tv.type.kind === "dynamic" || fv.type.kind === "dynamic") resultType = T.dynamic;
    else resultType = unify([tv.type, fv.type]);
    if (!resultType) {
      keep("both");
      this.err(
        "Inconsistent conditional result types",
        unionRange(n.trueExpr.range, n.falseExpr.range),
        `The true and false result expressions must have consistent types. The 'true' value is ${typeString(tv.type)}, but the 'false' value is ${typeString(fv.type)}.`,
      );
      return V.unknown();
    }
    const b = this.condBool(c, n.cond.range, "Incorrect condition type");
    if (b === null || b === undefined) keep("both");
    if (b === null) return V.unknown(resultType);
    if (b === undefined) return V.unknown(resultType).withMarks(c.marks);
    keep(b ? "true" : "false");
    const chosen = b ? tv : fv;
    try {
      return convert(chosen, resultType).withMarks(c.marks);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      this.err(
        "Inconsistent conditional result types",
        (b ? n.trueExpr : n.falseExpr).range,
        `The ${b ? "true" : "false"} result value is wrong: ${conversionMessage(e)}.`,
      );
      return V.unknown(resultType);
    }
  }

  private operand(v: Value, want: Type, range: SourceRange, side: string): Value | undefined {
    if (v.isNull) {
      this.err("Invalid operand", range, `Unsuitable value for ${side} operand: argument must not be null.`);
      return undefined;
    }
    try {
      return convert(v, want);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      this.err("Invalid operand", range, `Unsuitable value for ${side} operand: ${e.message}.`);
      return undefined;
    }
  }

  private binary(n: Extract<Node, { kind: "binary" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    const l = this.eval(n.lhs, ctx, anon);
    const r = this.eval(n.rhs, ctx, anon);
    const marks = marksOf(l, r);
    const op = n.op;
    if (op === "==" || op === "!=") {
      const eq = valueEquals(unmarkDeep(l), unmarkDeep(r));
      if (eq === undefined) return V.unknown(T.bool).withMarks(marks);
      return V.bool(op === "==" ? eq : !eq).withMarks(marks);
    }
    if (op === "&&" || op === "||") {
      const lb = this.operand(l, T.bool, n.lhs.range, "left");
      const rb = this.operand(r, T.bool, n.rhs.range, "right");
      if (!lb || !rb) return V.unknown(T.bool);
      if (!lb.isKnown || !rb.isKnown) {
        // Short-circuit results that do not depend on the unknown side.
        if (lb.isKnown && op === "&&" && !lb.bool) return V.false.withMarks(marks);
        if (lb.isKnown && op === "||" && lb.bool) return V.true.withMarks(marks);
        return V.unknown(T.bool).withMarks(marks);
      }
      return V.bool(op === "&&" ? lb.bool && rb.bool : lb.bool || rb.bool).withMarks(marks);
    }
    const ln = this.operand(l, T.number, n.lhs.range, "left");
    const rn = this.operand(r, T.number, n.rhs.range, "right");
    const resultType = op === "<" || op === ">" || op === "<=" || op === ">=" ? T.bool : T.number;
    if (!ln || !rn) return V.unknown(resultType);
    if (!ln.isKnown || !rn.isKnown) return V.unknown(resultType).withMarks(marks);
    const a = ln.num;
    const b = rn.num;
    try {
      switch (op) {
        case "+":
          return V.number(a.add(b)).withMarks(marks);
        case "-":
          return V.number(a.sub(b)).withMarks(marks);
        case "*":
          return V.number(a.mul(b)).withMarks(marks);
        case "/":
          return V.number(a.div(b)).withMarks(marks);
        case "%":
          return V.number(a.mod(b)).withMarks(marks);
        case "<":
          return V.bool(a.cmp(b) < 0).withMarks(marks);
        case ">":
          return V.bool(a.cmp(b) > 0).withMarks(marks);
        case "<=":
          return V.bool(a.cmp(b) <= 0).withMarks(marks);
        case ">=":
          return V.bool(a.cmp(b) >= 0).withMarks(marks);
      }
    } catch (e) {
      if (!(e instanceof NumError)) throw e;
      this.err("Operation failed", n.range, `Error during operation: ${e.message === "division by zero" ? "can't divide by zero" : e.message}.`);
      return V.unknown(resultType);
    }
    return V.unknown(resultType);
  }

  private unary(n: Extract<Node, { kind: "unary" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    const v = this.eval(n.operand, ctx, anon);
    if (n.op === "!") {
      const b = this.operand(v, T.bool, n.operand.range, "right");
      if (!b) return V.unknown(T.bool);
      if (!b.isKnown) return V.unknown(T.bool).withMarks(v.marks);
      return V.bool(!b.bool).withMarks(v.marks);
    }
    const num = this.operand(v, T.number, n.operand.range, "right");
    if (!num) return V.unknown(T.number);
    if (!num.isKnown) return V.unknown(T.number).withMarks(v.marks);
    return V.number(num.num.neg()).withMarks(v.marks);
  }

  private object(n: Extract<Node, { kind: "object" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    const m = new Map<string, Value>();
    let unknown = false;
    let marks: Set<string> | undefined;
    for (const item of n.items) {
      const k = this.eval(item.key, ctx, anon);
      const v = this.eval(item.value, ctx, anon);
      if (k.isNull) {
        this.err("Null value as key", item.key.range, "Can't use a null value as a key.");
        continue;
      }
      let ks: Value;
      try {
        ks = convert(k.unmark(), T.string);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        this.err("Incorrect key type", item.key.range, `Can't use this value as a key: ${e.message}.`);
        continue;
      }
      if (k.marks) for (const mk of k.marks) (marks ??= new Set()).add(mk);
      if (!ks.isKnown) {
        unknown = true;
        continue;
      }
      m.set(ks.str, v);
    }
    if (unknown) return V.unknown().withMarks(marks);
    return V.object(m).withMarks(marks);
  }

  /** Elements of an iterable value as [key, value] pairs, or undefined after reporting an error. */
  private iterate(coll: Value, range: SourceRange): Array<[Value, Value]> | undefined {
    if (coll.isNull) {
      this.err(
        "Iteration over null value",
        range,
        "A null value cannot be used as the collection in a 'for' expression.",
      );
      return undefined;
    }
    const k = coll.type.kind;
    if (k === "list" || k === "tuple") return coll.elems.map((e, i) => [V.number(i), e.withMarks(coll.marks)]);
    if (k === "set") return coll.elems.map((e) => [e.withMarks(coll.marks), e.withMarks(coll.marks)]);
    if (k === "map" || k === "object") return [...coll.attrs].map(([key, e]) => [V.string(key), e.withMarks(coll.marks)]);
    this.err(
      "Iteration over non-iterable value",
      range,
      `A value of type ${typeString(coll.type)} cannot be used as the collection in a 'for' expression.`,
    );
    return undefined;
  }

  private forExpr(n: Extract<Node, { kind: "for" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    const coll = this.eval(n.collection, ctx, anon);
    const isObject = !!n.keyExpr;
    if (!coll.isKnown) return V.unknown(isObject ? T.dynamic : T.dynamic);
    const items = this.iterate(coll, n.collection.range);
    if (!items) return V.unknown();
    const base = ctx ?? new EvalContext();
    const tupleOut: Value[] = [];
    const objOut = new Map<string, Value>();
    const groups = new Map<string, Value[]>();
    let unknown = false;
    const marks = new Set<string>(coll.marks ?? []);
    for (const [key, val] of items) {
      const vars: Record<string, Value> = { [n.valVar]: val };
      if (n.keyVar) vars[n.keyVar] = key;
      const child = base.child(vars);
      if (n.condExpr) {
        const c = this.eval(n.condExpr, child, anon);
        if (c.isNull) {
          this.err("Condition is null", n.condExpr.range, "The value of the 'if' clause must not be null.");
          return V.unknown();
        }
        let cb: Value;
        try {
          cb = convert(c.unmark(), T.bool);
        } catch (e) {
          if (!(e instanceof ConversionError)) throw e;
          this.err("Invalid 'for' condition", n.condExpr.range, `The 'if' clause value is invalid: ${e.message}.`);
          return V.unknown();
        }
        if (!cb.isKnown) {
          unknown = true;
          continue;
        }
        if (c.marks) for (const m of c.marks) marks.add(m);
        if (!cb.bool) continue;
      }
      const v = this.eval(n.valExpr, child, anon);
      const count = tupleOut.length + objOut.size + groups.size + 1;
      if (!this.withinLimits(n.range, 1, () => checkCollectionLength(count, "the 'for' expression's result"))) return V.unknown();
      if (!isObject) {
        tupleOut.push(v);
        continue;
      }
      const k = this.eval(n.keyExpr!, child, anon);
      if (k.isNull) {
        this.err("Invalid object key", n.keyExpr!.range, "Key expression in 'for' expression must not produce a null value.");
        return V.unknown();
      }
      let ks: Value;
      try {
        ks = convert(k.unmark(), T.string);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        this.err("Invalid object key", n.keyExpr!.range, `The key expression produced an invalid result: ${e.message}.`);
        return V.unknown();
      }
      if (!ks.isKnown) {
        unknown = true;
        continue;
      }
      if (k.marks) for (const m of k.marks) marks.add(m);
      if (n.group) {
        const g = groups.get(ks.str) ?? [];
        g.push(v);
        groups.set(ks.str, g);
      } else {
        if (objOut.has(ks.str)) {
          this.err(
            "Duplicate object key",
            n.keyExpr!.range,
            `Two different items produced the key ${JSON.stringify(ks.str)} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.`,
          );
          return V.unknown();
        }
        objOut.set(ks.str, v);
      }
    }
    if (unknown) return V.unknown().withMarks(marks);
    if (!isObject) return V.tuple(tupleOut).withMarks(marks);
    if (n.group) for (const [k, g] of groups) objOut.set(k, V.tuple(g));
    return V.object(objOut).withMarks(marks);
  }

  private template(parts: Node[], ctx: EvalContext | undefined, anon: Anon): Value {
    let out = "";
    let unknown = false;
    const marks = new Set<string>();
    for (const p of parts) {
      const v = this.eval(p, ctx, anon);
      if (v.marks) for (const m of v.marks) marks.add(m);
      if (v.isNull) {
        this.err(
          "Invalid template interpolation value",
          p.range,
          "The expression result is null. Cannot include a null value in a string template.",
        );
        unknown = true;
        continue;
      }
      if (!v.isKnown) {
        unknown = true;
        continue;
      }
      let s: Value;
      try {
        s = convert(v.unmark(), T.string);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        this.err(
          "Invalid template interpolation value",
          p.range,
          `Cannot include the given value in a string template: ${e.message}.`,
        );
        unknown = true;
        continue;
      }
      if (!s.isKnown) {
        unknown = true;
        continue;
      }
      out += s.str;
      const length = out.length;
      if (!this.withinLimits(p.range, s.str.length, () => checkStringLength(length, "the string template's result"))) return V.unknown(T.string);
    }
    const res = unknown ? V.unknown(T.string) : V.string(out);
    return marks.size ? res.withMarks(marks) : res;
  }

  private templateFor(n: Extract<Node, { kind: "templateFor" }>, ctx: EvalContext | undefined, anon: Anon): Value {
    const coll = this.eval(n.collection, ctx, anon);
    if (!coll.isKnown) return V.unknown(T.string);
    const items = this.iterate(coll, n.collection.range);
    if (!items) return V.unknown(T.string);
    const base = ctx ?? new EvalContext();
    let out = "";
    let unknown = false;
    const marks = new Set<string>(coll.marks ?? []);
    for (const [key, val] of items) {
      const vars: Record<string, Value> = { [n.valVar]: val };
      if (n.keyVar) vars[n.keyVar] = key;
      const v = this.eval(n.body, base.child(vars), anon);
      if (v.marks) for (const m of v.marks) marks.add(m);
      if (!v.isKnown) unknown = true;
      else if (!v.isNull) {
        out += v.str;
        const length = out.length;
        if (!this.withinLimits(n.range, v.str.length, () => checkStringLength(length, "the template 'for' directive's result"))) return V.unknown(T.string);
      }
    }
    return (unknown ? V.unknown(T.string) : V.string(out)).withMarks(marks);
  }
}

/** A function's result against the limits, charged to the work budget; throws LimitError. */
function boundResult(name: string, r: Value): void {
  if (!r.isKnown || r.isNull) return;
  if (r.depth > LIMITS.maxNesting) throw new LimitError(nestingMessage(`the result of ${name}()`));
  const k = r.type.kind;
  if (k === "string") {
    checkStringLength(r.str.length, `the result of ${name}()`);
    chargeWork(r.str.length, `the result of ${name}()`);
  } else if (k === "list" || k === "set" || k === "tuple") {
    checkCollectionLength(r.elems.length, `the result of ${name}()`);
    chargeWork(r.elems.length, `the result of ${name}()`);
  } else if (k === "map" || k === "object") {
    checkCollectionLength(r.attrs.size, `the result of ${name}()`);
    chargeWork(r.attrs.size, `the result of ${name}()`);
  }
}

/**
 * Calls an HCL function with HCL's argument checks: arity, conversion to parameter types, null
 * and unknown handling, and marks (removed before the call, re-applied to the result).
 */
export function callFunction(
  name: string,
  f: HclFunction,
  rawArgs: Value[],
  argRanges: SourceRange[],
  callRange: SourceRange,
  diags: Diagnostic[],
  /** The name through the opening parenthesis, where HCL reports a failed call; defaults to callRange. */
  startRange: SourceRange = callRange,
): Value {
  const params = f.params;
  if (rawArgs.length < params.length) {
    const missing = params[rawArgs.length]!;
    diags.push(
      errorDiag(
        "Not enough function arguments",
        callRange,
        `Function ${JSON.stringify(name)} expects ${params.length} argument(s). Missing value for ${JSON.stringify(missing.name)}.`,
      ),
    );
    return V.unknown();
  }
  if (rawArgs.length > params.length && !f.varParam) {
    diags.push(
      errorDiag(
        "Too many function arguments",
        argRanges[params.length] ?? callRange,
        `Function ${JSON.stringify(name)} expects only ${params.length} argument(s).`,
      ),
    );
    return V.unknown();
  }
  const resultMarks = new Set<string>();
  const args: Value[] = [];
  let unknownResult = false;
  for (let i = 0; i < rawArgs.length; i++) {
    const p = i < params.length ? params[i]! : f.varParam!;
    let a = rawArgs[i]!;
    const range = argRanges[i] ?? callRange;
    if (!p.allowMarked) {
      deepMarks(a, resultMarks);
      a = unmarkDeep(a);
    }
    if (a.isNull && !p.allowNull) {
      diags.push(errorDiag("Invalid function argument", range, `Invalid value for ${JSON.stringify(p.name)} parameter: argument must not be null.`));
      return V.unknown();
    }
    try {
      a = convert(a, p.type);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      diags.push(errorDiag("Invalid function argument", range, `Invalid value for ${JSON.stringify(p.name)} parameter: ${conversionMessage(e)}.`));
      return V.unknown();
    }
    if (!p.allowUnknown && (a.raw === UNKNOWN || containsUnknown(a))) unknownResult = true;
    args.push(a);
  }
  if (unknownResult) {
    let t: Type = T.dynamic;
    try {
      t = f.returnType ? f.returnType(args) : T.dynamic;
    } catch {
      t = T.dynamic;
    }
    return V.unknown(t).withMarks(resultMarks);
  }
  try {
    const r = f.impl(args);
    boundResult(name, r);
    return resultMarks.size ? r.withMarks(resultMarks) : r;
  } catch (e) {
    if (e instanceof LimitError) {
      diags.push(errorDiag("Value too large", startRange, `Call to function ${JSON.stringify(name)} failed: ${e.message}.`));
      return V.unknown();
    }
    if (e instanceof FunctionError || e instanceof ConversionError || e instanceof NumError) {
      const idx = e instanceof FunctionError ? e.argIndex : undefined;
      if (idx !== undefined && argRanges[idx]) {
        const p = idx < params.length ? params[idx]! : f.varParam!;
        diags.push(errorDiag("Invalid function argument", argRanges[idx], `Invalid value for ${JSON.stringify(p?.name ?? "")} parameter: ${e.message}.`));
      } else {
        diags.push(errorDiag("Error in function call", startRange, `Call to function ${JSON.stringify(name)} failed: ${e.message}.`));
      }
      return V.unknown();
    }
    if (e instanceof RangeError) {
      diags.push(errorDiag("Error in function call", startRange, `Call to function ${JSON.stringify(name)} failed: ${e.message}.`));
      return V.unknown();
    }
    throw e;
  }
}
