// Evaluates a parsed template against dot data and a function map, the way Go's text/template
// executes: pipelines pass their value as the last argument of the next command, missing map keys
// print "<no value>", function errors stop execution with "error calling NAME: ...".
import { chargeWork, checkStringLength, LimitError } from "../../values/limits.ts";
import { FuncError, TemplateError } from "./errors.ts";
import type { ArgNode, CommandNode, ParsedTemplate, PipeNode, TemplateNode } from "./parser.ts";
import { goNumber, goPrint, goTruth, goTypeName, type GoValue } from "./values.ts";

export type ArgKind = "string" | "int" | "number" | "bool" | "any";

export interface TemplateFunc {
  params: ArgKind[];
  /** Kind of the extra arguments a variadic function takes. */
  variadic?: ArgKind;
  /** Throw FuncError for Go's `return "", err`. */
  call(args: GoValue[]): GoValue;
}

export type FuncMap = ReadonlyMap<string, TemplateFunc>;

class LoopControl {
  constructor(readonly kind: "break" | "continue") {}
}

interface Scope {
  vars: Array<[string, GoValue]>;
}

const MAX_RANGE_ITERATIONS = 1_000_000;

/** The text a template writes, refused at the action that takes it past LIMITS.maxStringLength. */
class Output {
  private readonly parts: string[] = [];
  private length = 0;
  push(text: string, pos: number): void {
    this.length += text.length;
    try {
      checkStringLength(this.length, "the template's output");
      chargeWork(text.length, "the template's output");
    } catch (e) {
      if (e instanceof LimitError) throw new TemplateError(e.message, pos, 2);
      throw e;
    }
    this.parts.push(text);
  }
  text(): string {
    return this.parts.join("");
  }
}

export function execute(tpl: ParsedTemplate, dot: GoValue, funcs: FuncMap): string {
  const scope: Scope = { vars: [["$", dot]] };
  const out = new Output();
  walkList(tpl.nodes, dot, funcs, scope, out);
  return out.text();
}

function walkList(nodes: TemplateNode[], dot: GoValue, funcs: FuncMap, scope: Scope, out: Output): void {
  for (const node of nodes) walk(node, dot, funcs, scope, out);
}

/**
 * Every node walked and every range iteration is a unit of work: a loop that prints nothing still
 * costs (`{{range .a}}{{range $.a}}{{range $.a}}{{end}}{{end}}{{end}}` over 1,000 elements blocked
 * the process for 19 s, during which nothing else — not even a time limit's timer — could run).
 */
function step(pos: number): void {
  try {
    chargeWork(1, "the template");
  } catch (e) {
    if (e instanceof LimitError) throw new TemplateError(e.message, pos, 2);
    throw e;
  }
}

function walk(node: TemplateNode, dot: GoValue, funcs: FuncMap, scope: Scope, out: Output): void {
  step(node.pos);
  switch (node.kind) {
    case "text":
      out.push(node.text, node.pos);
      return;
    case "action": {
      const v = evalPipe(node.pipe, dot, funcs, scope);
      if (node.pipe.decl.length === 0) out.push(goPrint(v), node.pos);
      return;
    }
    case "if":
    case "with": {
      const mark = scope.vars.length;
      const v = evalPipe(node.pipe, dot, funcs, scope);
      if (goTruth(v)) walkList(node.list, node.kind === "with" ? v : dot, funcs, scope, out);
      else if (node.elseList) walkList(node.elseList, dot, funcs, scope, out);
      scope.vars.length = mark;
      return;
    }
    case "range": {
      const mark = scope.vars.length;
      const v = evalPipe({ ...node.pipe, decl: [] }, dot, funcs, scope);
      const entries = rangeEntries(v, node.pipe.pos);
      if (entries.length === 0) {
        if (node.elseList) walkList(node.elseList, dot, funcs, scope, out);
      }
      for (const [key, elem] of entries) {
        step(node.pos);
        const inner = scope.vars.length;
        const decl = node.pipe.decl;
        if (decl.length === 1) scope.vars.push([decl[0] as string, elem]);
        if (decl.length === 2) scope.vars.push([decl[0] as string, key], [decl[1] as string, elem]);
        try {
          walkList(node.list, elem, funcs, scope, out);
        } catch (e) {
          if (!(e instanceof LoopControl)) throw e;
          if (e.kind === "break") {
            scope.vars.length = inner;
            break;
          }
        }
        scope.vars.length = inner;
      }
      scope.vars.length = mark;
      return;
    }
    case "break":
    case "continue":
      throw new LoopControl(node.kind);
  }
}

function rangeEntries(v: GoValue, pos: number): Array<[GoValue, GoValue]> {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((e, i) => [i, e]);
  if (typeof v === "object") return Object.keys(v).sort().map((k) => [k, v[k]]);
  if (typeof v === "number" && Number.isInteger(v)) {
    if (v > MAX_RANGE_ITERATIONS) throw new TemplateError(`range over ${v} is too large`, pos);
    return Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
  }
  throw new TemplateError(`range can't iterate over ${goPrint(v)}`, pos);
}

function evalPipe(pipe: PipeNode, dot: GoValue, funcs: FuncMap, scope: Scope): GoValue {
  let value: GoValue = undefined;
  let first = true;
  for (const cmd of pipe.cmds) {
    value = evalCommand(cmd, dot, funcs, scope, first ? undefined : { value });
    first = false;
  }
  for (const name of pipe.decl) {
    if (pipe.isAssign) {
      for (let k = scope.vars.length - 1; k >= 0; k--) {
        const entry = scope.vars[k];
        if (entry && entry[0] === name) {
          entry[1] = value;
          break;
        }
      }
    } else scope.vars.push([name, value]);
  }
  return value;
}

function evalCommand(cmd: CommandNode, dot: GoValue, funcs: FuncMap, scope: Scope, final?: { value: GoValue }): GoValue {
  const first = cmd.args[0] as ArgNode;
  if (first.kind === "identifier") return evalFunction(first.name, first.pos, cmd.args.slice(1), dot, funcs, scope, final);
  if (cmd.args.length > 1 || final) {
    throw new TemplateError(`can't give argument to non-function ${describeArg(first)}`, first.pos);
  }
  return evalArg(first, dot, funcs, scope);
}

function describeArg(a: ArgNode): string {
  switch (a.kind) {
    case "field":
      return `.${a.path.join(".")}`;
    case "variable":
      return [a.name, ...a.path].join(".");
    case "string":
      return JSON.stringify(a.value);
    case "number":
      return a.text;
    case "bool":
      return String(a.value);
    default:
      return a.kind;
  }
}

function evalArg(a: ArgNode, dot: GoValue, funcs: FuncMap, scope: Scope): GoValue {
  switch (a.kind) {
    case "dot":
      return dot;
    case "nil":
      return null;
    case "string":
    case "number":
    case "bool":
      return a.value;
    case "field":
      return evalFields(dot, a.path, a.pos);
    case "variable": {
      for (let k = scope.vars.length - 1; k >= 0; k--) {
        const entry = scope.vars[k];
        if (entry && entry[0] === a.name) return evalFields(entry[1], a.path, a.pos);
      }
      throw new TemplateError(`undefined variable: ${a.name}`, a.pos, a.name.length);
    }
    case "identifier":
      return evalFunction(a.name, a.pos, [], dot, funcs, scope);
    case "pipe":
      return evalPipe(a.pipe, dot, funcs, scope);
    case "chain":
      return evalFields(evalArg(a.node, dot, funcs, scope), a.path, a.pos);
  }
}

function evalFields(receiver: GoValue, path: string[], pos: number): GoValue {
  let v = receiver;
  for (const name of path) {
    if (v === undefined) return undefined; // Go: a missing value stays missing ("<no value>")
    if (v === null) throw new TemplateError(`nil pointer evaluating interface {}.${name}`, pos);
    if (typeof v !== "object" || Array.isArray(v)) {
      throw new TemplateError(`can't evaluate field ${name} in type ${goTypeName(v)}`, pos);
    }
    v = Object.hasOwn(v, name) ? v[name] : undefined;
  }
  return v;
}

// `and`/`or` evaluate their arguments lazily, so they are not ordinary functions.
function evalLogic(name: "and" | "or", pos: number, args: ArgNode[], dot: GoValue, funcs: FuncMap, scope: Scope, final?: { value: GoValue }): GoValue {
  const thunks: Array<() => GoValue> = args.map((a) => () => evalArg(a, dot, funcs, scope));
  if (final) thunks.push(() => final.value);
  if (thunks.length === 0) throw new TemplateError(`wrong number of args for ${name}: want at least 1 got 0`, pos, name.length);
  let v: GoValue = undefined;
  for (const t of thunks) {
    v = t();
    if (name === "and" ? !goTruth(v) : goTruth(v)) return v;
  }
  return v;
}

function evalFunction(
  name: string,
  pos: number,
  argNodes: ArgNode[],
  dot: GoValue,
  funcs: FuncMap,
  scope: Scope,
  final?: { value: GoValue },
): GoValue {
  if (name === "and" || name === "or") return evalLogic(name, pos, argNodes, dot, funcs, scope, final);
  const fn = funcs.get(name);
  if (!fn) throw new TemplateError(`function "${name}" not defined`, pos, name.length);
  const given = argNodes.length + (final ? 1 : 0);
  const want = fn.params.length;
  if (fn.variadic ? given < want : given !== want) {
    throw new TemplateError(
      `wrong number of args for ${name}: want ${fn.variadic ? "at least " : ""}${want} got ${given}`,
      pos,
      name.length,
    );
  }
  const args: GoValue[] = [];
  for (let k = 0; k < given; k++) {
    const node = argNodes[k];
    const v = node ? evalArg(node, dot, funcs, scope) : final?.value;
    const kind = k < want ? (fn.params[k] as ArgKind) : (fn.variadic ?? "any");
    args.push(checkKind(v, kind, node ? node.pos : pos, name));
  }
  try {
    return fn.call(args);
  } catch (e) {
    if (e instanceof FuncError || e instanceof LimitError) throw new TemplateError(`error calling ${name}: ${e.message}`, pos, name.length);
    // A JavaScript range failure (a precision past 100, a string past the engine's maximum) is the
    // input's fault: report it at the call like a Go error, never as a crash.
    if (e instanceof RangeError) throw new TemplateError(`error calling ${name}: ${e.message}`, pos, name.length);
    throw e;
  }
}

function checkKind(v: GoValue, kind: ArgKind, pos: number, fname: string): GoValue {
  const wrong = (expected: string) =>
    new TemplateError(`wrong type for value; expected ${expected}; got ${goTypeName(v)}`, pos, fname.length);
  switch (kind) {
    case "any":
      return v;
    case "string":
      if (typeof v !== "string") throw wrong("string");
      return v;
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v)) {
        if (typeof v === "number") throw new TemplateError(`expected integer; found ${goNumber(v)}`, pos);
        throw wrong("int");
      }
      return v;
    case "number":
      if (typeof v !== "number") throw wrong("float64");
      return v;
    case "bool":
      if (typeof v !== "boolean") throw wrong("bool");
      return v;
  }
}
