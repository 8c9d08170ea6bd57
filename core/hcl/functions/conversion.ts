// try / can (ext/tryfunc), convert(value, type) (ext/typeexpr) and the to* conversion functions.
import type { Diagnostic, SourceRange } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import { NativeExpression } from "../body.ts";
import type { HclFunction, LazyArg } from "../context.ts";
import { ConversionError, conversionMessage, convert } from "../convert.ts";
import { parseTypeExpr } from "../typeexpr.ts";
import { T, type Type } from "../types.ts";
import { V, Value, containsUnknown } from "../value.ts";
import { FunctionError, fn, p } from "./helpers.ts";

function rangeText(r: SourceRange): string {
  return `${r.filename}:${r.start.line},${r.start.column}-${r.end.line === r.start.line ? "" : `${r.end.line},`}${r.end.column}`;
}

const tryFn: HclFunction = {
  params: [],
  varParam: p("expressions", T.dynamic),
  impl: () => V.unknown(),
  lazy: (args: LazyArg[], callRange: SourceRange) => {
    if (args.length === 0) {
      return { value: V.unknown(), diagnostics: [errorDiag("Error in function call", callRange, 'Call to function "try" failed: at least one argument is required.')] };
    }
    const failures: Diagnostic[][] = [];
    for (const a of args) {
      const r = a.evaluate();
      if (r.diagnostics.some((d) => d.severity === "error")) {
        failures.push(r.diagnostics);
        continue;
      }
      if (containsUnknown(r.value)) return { value: V.unknown(), diagnostics: [] };
      return { value: r.value, diagnostics: [] };
    }
    let msg = "no expression succeeded:\n";
    for (const ds of failures) {
      const d = ds.find((x) => x.severity === "error")!;
      msg += d.range ? `- ${d.summary} (at ${rangeText(d.range)})\n  ${d.detail ?? ""}\n` : `- ${d.summary}\n  ${d.detail ?? ""}\n`;
    }
    msg += "\nAt least one expression must produce a successful result";
    return { value: V.unknown(), diagnostics: [errorDiag("Error in function call", callRange, `Call to function "try" failed: ${msg}.`)] };
  },
};

const canFn: HclFunction = {
  params: [p("expression", T.dynamic)],
  impl: () => V.unknown(T.bool),
  lazy: (args: LazyArg[], callRange: SourceRange) => {
    if (args.length !== 1) {
      return { value: V.unknown(T.bool), diagnostics: [errorDiag(args.length ? "Too many function arguments" : "Not enough function arguments", callRange, 'Function "can" expects 1 argument(s).')] };
    }
    const r = args[0]!.evaluate();
    if (r.diagnostics.some((d) => d.severity === "error")) return { value: V.false, diagnostics: [] };
    if (containsUnknown(r.value)) return { value: V.unknown(T.bool), diagnostics: [] };
    return { value: V.true, diagnostics: [] };
  },
};

const convertFn: HclFunction = {
  params: [p("value", T.dynamic, { allowNull: true }), p("type", T.dynamic)],
  impl: () => V.unknown(),
  lazy: (args: LazyArg[], callRange: SourceRange) => {
    if (args.length !== 2) {
      return { value: V.unknown(), diagnostics: [errorDiag(args.length < 2 ? "Not enough function arguments" : "Too many function arguments", callRange, 'Function "convert" expects 2 argument(s).')] };
    }
    const r = args[0]!.evaluate();
    const t = parseTypeExpr(new NativeExpression(args[1]!.node));
    const diags = [...r.diagnostics, ...t.diagnostics];
    if (diags.some((d) => d.severity === "error")) return { value: V.unknown(), diagnostics: diags };
    try {
      return { value: convert(r.value, t.type), diagnostics: diags };
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      return {
        value: V.unknown(t.type),
        diagnostics: [errorDiag("Invalid function argument", args[0]!.range, `Invalid value for "value" parameter: ${conversionMessage(e)}.`)],
      };
    }
  },
};

function to(type: Type): HclFunction {
  return fn([p("v", T.dynamic, { allowNull: true })], ([v]) => {
    try {
      return convert(v!, type);
    } catch (e) {
      if (e instanceof ConversionError) throw new FunctionError(`cannot convert ${v!.type.kind} to ${type.kind === "dynamic" ? "any" : type.kind}: ${conversionMessage(e)}`, 0);
      throw e;
    }
  });
}

export const conversionFunctions: Record<string, HclFunction> = {
  try: tryFn,
  can: canFn,
  convert: convertFn,
  tostring: to(T.string),
  tonumber: to(T.number),
  tobool: to(T.bool),
  tolist: to(T.list(T.dynamic)),
  toset: to(T.set(T.dynamic)),
  tomap: to(T.map(T.dynamic)),
};

export type { Value };
