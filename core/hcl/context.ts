// What expressions are evaluated against: variables and functions, with child scopes for
// `for` expressions and dynamic blocks.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import type { Node } from "./ast.ts";
import type { Type } from "./types.ts";
import type { Value } from "./value.ts";

/** An unevaluated argument, for functions like try/can/convert that need the expression itself. */
export interface LazyArg {
  range: SourceRange;
  node: Node;
  evaluate(): { value: Value; diagnostics: Diagnostic[] };
}

export interface FuncParam {
  name: string;
  type: Type;
  /** Accept null arguments (otherwise "argument must not be null"). */
  allowNull?: boolean;
  /** Receive unknown arguments (otherwise the call result is unknown). */
  allowUnknown?: boolean;
  /** Receive marked values as they are (otherwise marks are removed and re-applied to the result). */
  allowMarked?: boolean;
}

export interface HclFunction {
  params: FuncParam[];
  varParam?: FuncParam;
  /** Result type for unknown results; default `any`. */
  returnType?: (args: Value[]) => Type;
  /** Throws FunctionError (or ConversionError) to report a failure; other exceptions are bugs. */
  impl: (args: Value[]) => Value;
  /** When set, the call passes unevaluated arguments here instead (params only document arity). */
  lazy?: (args: LazyArg[], callRange: SourceRange) => { value: Value; diagnostics: Diagnostic[] };
}

export class FunctionError extends Error {
  constructor(
    message: string,
    /** Index of the argument at fault, to point the diagnostic at it. */
    readonly argIndex?: number,
  ) {
    super(message);
  }
}

export class EvalContext {
  readonly variables: Record<string, Value>;
  /** False when constructed without a variables table: references are then "not allowed" (as in HCL). */
  private readonly variablesAllowed: boolean;

  constructor(
    variables?: Record<string, Value>,
    readonly functions: Record<string, HclFunction> = {},
    readonly parent?: EvalContext,
  ) {
    this.variables = variables ?? {};
    this.variablesAllowed = variables !== undefined;
  }

  /** A child scope with extra variables (functions are inherited). */
  child(variables: Record<string, Value>): EvalContext {
    return new EvalContext(variables, {}, this);
  }

  lookupVariable(name: string): Value | undefined {
    for (let c: EvalContext | undefined = this; c; c = c.parent) {
      if (Object.prototype.hasOwnProperty.call(c.variables, name)) return c.variables[name];
    }
    return undefined;
  }

  lookupFunction(name: string): HclFunction | undefined {
    for (let c: EvalContext | undefined = this; c; c = c.parent) {
      if (Object.prototype.hasOwnProperty.call(c.functions, name)) return c.functions[name];
    }
    return undefined;
  }

  hasVariables(): boolean {
    for (let c: EvalContext | undefined = this; c; c = c.parent) if (c.variablesAllowed) return true;
    return false;
  }
  hasFunctions(): boolean {
    for (let c: EvalContext | undefined = this; c; c = c.parent) if (Object.keys(c.functions).length > 0) return true;
    return false;
  }
  allVariableNames(): string[] {
    const s = new Set<string>();
    for (let c: EvalContext | undefined = this; c; c = c.parent) for (const k of Object.keys(c.variables)) s.add(k);
    return [...s];
  }
  allFunctionNames(): string[] {
    const s = new Set<string>();
    for (let c: EvalContext | undefined = this; c; c = c.parent) for (const k of Object.keys(c.functions)) s.add(k);
    return [...s];
  }
}

/** Levenshtein-based "Did you mean" like HCL's nameSuggestion (distance < 3). */
export function nameSuggestion(given: string, suggestions: string[]): string | undefined {
  for (const s of suggestions) if (levenshtein(given, s) < 3) return s;
  return undefined;
}

function levenshtein(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}
