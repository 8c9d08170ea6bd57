// The parser of Go's text/template: text and actions, pipelines (`a | b c`), commands, operands,
// `if`/`else if`/`else`/`end`, `range`, `with`, `break`/`continue` and `$variables`. Like Go, an
// unknown function is a parse error, so a template is checked before anything is evaluated.
import { LIMITS } from "../../values/limits.ts";
import { TemplateError } from "./errors.ts";
import { lex, type Token } from "./lexer.ts";

export type ArgNode =
  | { kind: "field"; pos: number; path: string[] }
  | { kind: "dot"; pos: number }
  | { kind: "nil"; pos: number }
  | { kind: "variable"; pos: number; name: string; path: string[] }
  | { kind: "identifier"; pos: number; name: string }
  | { kind: "string"; pos: number; value: string }
  | { kind: "number"; pos: number; value: number; text: string }
  | { kind: "bool"; pos: number; value: boolean }
  | { kind: "pipe"; pos: number; pipe: PipeNode }
  | { kind: "chain"; pos: number; node: ArgNode; path: string[] };

export interface CommandNode {
  pos: number;
  args: ArgNode[];
}
export interface PipeNode {
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: CommandNode[];
}
export type TemplateNode =
  | { kind: "text"; pos: number; text: string }
  | { kind: "action"; pos: number; pipe: PipeNode }
  | { kind: "if" | "with"; pos: number; pipe: PipeNode; list: TemplateNode[]; elseList?: TemplateNode[] }
  | { kind: "range"; pos: number; pipe: PipeNode; list: TemplateNode[]; elseList?: TemplateNode[] }
  | { kind: "break" | "continue"; pos: number };

export interface ParsedTemplate {
  text: string;
  nodes: TemplateNode[];
}

export interface ParseOptions {
  /** Is a function of this name defined? */
  hasFunction(name: string): boolean;
}

type EndKind = "end" | "else" | "eof";

export function parseTemplate(text: string, opts: ParseOptions): ParsedTemplate {
  const p = new TemplateParser(lex(text), opts);
  const { nodes, end } = p.list(0);
  if (end.kind !== "eof") throw new TemplateError(`unexpected {{${end.kind}}}`, end.pos, end.kind.length);
  return { text, nodes };
}

class TemplateParser {
  private i = 0;
  private vars: string[] = ["$"];
  private rangeDepth = 0;
  /** Open control structures and parentheses (LIMITS.maxNesting bounds them, as Go's parser bounds its own). */
  private nesting = 0;

  constructor(
    private readonly toks: Token[],
    private readonly opts: ParseOptions,
  ) {}

  private peek(): Token {
    return this.toks[this.i] as Token;
  }
  private next(): Token {
    return this.toks[this.i++] as Token;
  }
  /** Next token that is not a space. */
  private peekNonSpace(): Token {
    while (this.peek().type === "space") this.i++;
    return this.peek();
  }
  private nextNonSpace(): Token {
    this.peekNonSpace();
    return this.next();
  }
  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.type !== "rightDelim") throw new TemplateError(`unexpected ${describe(t)} in ${context}`, t.pos, t.val.length);
  }

  /** Nodes until {{end}}, {{else}} or the end of input; reports which one stopped it. */
  list(depth: number): { nodes: TemplateNode[]; end: { kind: EndKind; pos: number; elseIf?: boolean; elseWith?: boolean } } {
    const nodes: TemplateNode[] = [];
    for (;;) {
      const t = this.next();
      if (t.type === "eof") return { nodes, end: { kind: "eof", pos: t.pos } };
      if (t.type === "text") {
        nodes.push({ kind: "text", pos: t.pos, text: t.val });
        continue;
      }
      // leftDelim
      const k = this.peekNonSpace();
      if (k.type === "keyword") {
        this.next();
        switch (k.val) {
          case "end":
            if (depth === 0) throw new TemplateError("unexpected {{end}}", k.pos, 3);
            this.expectRight("end");
            return { nodes, end: { kind: "end", pos: k.pos } };
          case "else": {
            if (depth === 0) throw new TemplateError("unexpected {{else}}", k.pos, 4);
            const n = this.peekNonSpace();
            if (n.type === "keyword" && (n.val === "if" || n.val === "with")) {
              // `{{else if x}}` is `{{else}}{{if x}}...{{end}}`: leave the keyword for the caller.
              return { nodes, end: { kind: "else", pos: k.pos, elseIf: n.val === "if", elseWith: n.val === "with" } };
            }
            this.expectRight("else");
            return { nodes, end: { kind: "else", pos: k.pos } };
          }
          case "if":
          case "with":
          case "range":
            nodes.push(this.control(k.val, k.pos, depth));
            continue;
          case "break":
          case "continue":
            if (this.rangeDepth === 0) throw new TemplateError(`{{${k.val}}} outside {{range}}`, k.pos, k.val.length);
            this.expectRight(k.val);
            nodes.push({ kind: k.val, pos: k.pos });
            continue;
          default:
            throw new TemplateError(`{{${k.val}}} is not supported in Packer templates`, k.pos, k.val.length);
        }
      }
      // Declarations in a plain action stay in scope until the end of the enclosing block.
      const pipe = this.pipeline("command", true);
      nodes.push({ kind: "action", pos: pipe.pos, pipe });
    }
  }

  /** Runs `parse` one nesting level deeper, refusing past the limit at `pos`. */
  private nested<R>(pos: number, length: number, parse: () => R): R {
    if (this.nesting >= LIMITS.maxNesting) {
      throw new TemplateError(`max depth exceeded: actions nested more than ${LIMITS.maxNesting} levels deep`, pos, length);
    }
    this.nesting++;
    try {
      return parse();
    } finally {
      this.nesting--;
    }
  }

  private control(kind: "if" | "with" | "range", pos: number, depth: number): TemplateNode {
    return this.nested(pos, kind.length, () => this.controlBody(kind, pos, depth));
  }

  private controlBody(kind: "if" | "with" | "range", pos: number, depth: number): TemplateNode {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, true, kind === "range");
    if (kind === "range") this.rangeDepth++;
    const body = this.list(depth + 1);
    if (kind === "range") this.rangeDepth--;
    let elseList: TemplateNode[] | undefined;
    if (body.end.kind === "else") {
      if (body.end.elseIf || body.end.elseWith) {
        // Parse the chained `if`/`with` as the only node of the else branch; it consumes the shared {{end}}.
        const kw = this.nextNonSpace();
        elseList = [this.control(kw.val as "if" | "with", kw.pos, depth)];
      } else {
        const rest = this.list(depth + 1);
        if (rest.end.kind !== "end") throw new TemplateError(`unexpected EOF`, rest.end.pos, 0);
        elseList = rest.nodes;
      }
    } else if (body.end.kind !== "end") {
      throw new TemplateError("unexpected EOF", body.end.pos, 0);
    }
    this.vars.length = mark;
    return { kind, pos, pipe, list: body.nodes, ...(elseList ? { elseList } : {}) };
  }

  private pipeline(context: string, declAllowed: boolean, multiDecl = false): PipeNode {
    const start = this.peekNonSpace();
    const pipe: PipeNode = { pos: start.pos, decl: [], isAssign: false, cmds: [] };
    // Declarations: `$x :=`, `$x =`, `$i, $e :=` (range only).
    if (declAllowed && start.type === "variable") {
      const save = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.type === "declare" || after.type === "assign") {
        this.next();
        pipe.decl.push(start.val);
        pipe.isAssign = after.type === "assign";
        if (pipe.isAssign && !this.vars.includes(start.val)) {
          throw new TemplateError(`undefined variable "${start.val}"`, start.pos, start.val.length);
        }
        if (!pipe.isAssign) this.vars.push(start.val);
      } else if (after.type === "comma" && multiDecl) {
        this.next();
        const second = this.nextNonSpace();
        const op = this.nextNonSpace();
        if (second.type !== "variable" || (op.type !== "declare" && op.type !== "assign")) {
          throw new TemplateError("too many declarations in range", second.pos, second.val.length);
        }
        pipe.decl.push(start.val, second.val);
        pipe.isAssign = op.type === "assign";
        if (!pipe.isAssign) this.vars.push(start.val, second.val);
      } else {
        this.i = save;
      }
    }
    for (;;) {
      const t = this.peekNonSpace();
      if (t.type === "rightDelim" || t.type === "rightParen") {
        if (t.type === "rightDelim") this.next();
        break;
      }
      pipe.cmds.push(this.command());
      const sep = this.peekNonSpace();
      if (sep.type === "pipe") {
        this.next();
        continue;
      }
    }
    if (pipe.cmds.length === 0) throw new TemplateError(`missing value for ${context}`, pipe.pos, 2);
    pipe.cmds.forEach((cmd, idx) => {
      const first = cmd.args[0];
      if (idx > 0 && first && ["bool", "dot", "nil", "number", "string"].includes(first.kind)) {
        throw new TemplateError(`non executable command in pipeline stage ${idx + 1}`, first.pos);
      }
    });
    return pipe;
  }

  private command(): CommandNode {
    const cmd: CommandNode = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      const t = this.peekNonSpace();
      if (t.type === "rightDelim" || t.type === "rightParen" || t.type === "pipe") break;
      if (t.type === "eof") throw new TemplateError("unclosed action", t.pos, 0);
      cmd.args.push(this.operand());
    }
    if (cmd.args.length === 0) throw new TemplateError("empty command", cmd.pos);
    const first = cmd.args[0];
    if (first?.kind === "nil" && cmd.args.length === 1) throw new TemplateError("nil is not a command", first.pos, 3);
    return cmd;
  }

  private operand(): ArgNode {
    const node = this.term();
    const t = this.peek();
    if (t.type === "field") {
      const path: string[] = [];
      while (this.peek().type === "field") path.push(...this.next().val.slice(1).split("."));
      if (node.kind === "field" || node.kind === "variable") return { ...node, path: [...node.path, ...path] };
      if (["bool", "string", "number", "nil", "dot"].includes(node.kind)) {
        throw new TemplateError(`unexpected . after term`, t.pos);
      }
      return { kind: "chain", pos: node.pos, node, path };
    }
    return node;
  }

  private term(): ArgNode {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "identifier":
        if (!this.opts.hasFunction(t.val)) throw new TemplateError(`function "${t.val}" not defined`, t.pos, t.val.length);
        return { kind: "identifier", pos: t.pos, name: t.val };
      case "dot":
        return { kind: "dot", pos: t.pos };
      case "nil":
        return { kind: "nil", pos: t.pos };
      case "variable":
        if (!this.vars.includes(t.val)) throw new TemplateError(`undefined variable "${t.val}"`, t.pos, t.val.length);
        return { kind: "variable", pos: t.pos, name: t.val, path: [] };
      case "field":
        return { kind: "field", pos: t.pos, path: t.val.slice(1).split(".") };
      case "bool":
        return { kind: "bool", pos: t.pos, value: t.val === "true" };
      case "number":
        return numberNode(t);
      case "char":
        return { kind: "number", pos: t.pos, value: unquoteChar(t), text: t.val };
      case "string":
        return { kind: "string", pos: t.pos, value: unquoteGoString(t) };
      case "rawString":
        return { kind: "string", pos: t.pos, value: t.val.slice(1, -1).replaceAll("\r", "") };
      case "leftParen": {
        const pipe = this.nested(t.pos, 1, () => this.pipeline("parenthesized pipeline", false));
        const close = this.next();
        if (close.type !== "rightParen") throw new TemplateError("unclosed left paren", t.pos);
        return { kind: "pipe", pos: t.pos, pipe };
      }
      default:
        throw new TemplateError(`unexpected ${describe(t)} in operand`, t.pos, Math.max(1, t.val.length));
    }
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case "eof":
      return "EOF";
    case "rightDelim":
      return `"}}"`;
    case "leftDelim":
      return `"{{"`;
    default:
      return `"${t.val}"`;
  }
}

function numberNode(t: Token): ArgNode {
  const clean = t.val.replaceAll("_", "");
  let value: number;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(clean)) value = parseInt(clean, 16);
  else if (/^[+-]?0[oO][0-7]+$/.test(clean)) value = parseInt(clean.replace(/0[oO]/, ""), 8);
  else if (/^[+-]?0[bB][01]+$/.test(clean)) value = parseInt(clean.replace(/0[bB]/, ""), 2);
  else if (/^[+-]?0[0-7]+$/.test(clean)) value = parseInt(clean, 8);
  else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(clean)) value = Number(clean);
  else throw new TemplateError(`bad number syntax: "${t.val}"`, t.pos, t.val.length);
  if (clean.startsWith("-0x") || clean.startsWith("-0X")) value = -parseInt(clean.slice(1), 16);
  return { kind: "number", pos: t.pos, value, text: t.val };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

/** Go's strconv.Unquote for a "double-quoted" literal. */
function unquoteGoString(t: Token): string {
  const body = t.val.slice(1, -1);
  let out = "";
  for (let k = 0; k < body.length; k++) {
    const c = body[k] as string;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++k] ?? "";
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined && e !== "'") {
      out += simple;
      continue;
    }
    const hexLen = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (hexLen > 0) {
      const hex = body.slice(k + 1, k + 1 + hexLen);
      if (hex.length !== hexLen || !/^[0-9a-fA-F]+$/.test(hex)) throw new TemplateError(`invalid syntax in ${t.val}`, t.pos, t.val.length);
      const v = parseInt(hex, 16);
      out += e === "x" ? String.fromCharCode(v) : String.fromCodePoint(v);
      k += hexLen;
      continue;
    }
    if (/[0-7]/.test(e)) {
      const oct = body.slice(k, k + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new TemplateError(`invalid syntax in ${t.val}`, t.pos, t.val.length);
      out += String.fromCharCode(parseInt(oct, 8));
      k += 2;
      continue;
    }
    throw new TemplateError(`invalid syntax in ${t.val}`, t.pos, t.val.length);
  }
  return out;
}

function unquoteChar(t: Token): number {
  const body = t.val.slice(1, -1);
  if (body.startsWith("\\")) {
    const decoded = unquoteGoString({ ...t, val: `"${body === "\\'" ? "'" : body}"` });
    return decoded.codePointAt(0) ?? 0;
  }
  const cp = body.codePointAt(0);
  if (cp === undefined || String.fromCodePoint(cp).length !== body.length) {
    throw new TemplateError(`malformed character constant: ${t.val}`, t.pos, t.val.length);
  }
  return cp;
}
