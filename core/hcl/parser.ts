// The native-syntax parser: tokens → syntax tree (ast.ts) plus diagnostics. It follows the
// structure and error recovery of HCL's Go parser so diagnostics land on the same ranges
// (the spec suite compares them exactly).
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import { LIMITS } from "../values/limits.ts";
import type { AnonSymbol, AttributeNode, BinaryOp, BlockNode, BodyNode, Node, TraverseStep } from "./ast.ts";
import { lexConfig, lexTemplate, type Token, type TokenType } from "./lexer.ts";
import { Num, NumError } from "./num.ts";
import { SourceFile, unionRange } from "./source.ts";
import { T } from "./types.ts";
import { V } from "./value.ts";

export interface ParseResult<N> {
  node: N;
  diagnostics: Diagnostic[];
}

/** Parses a whole native-syntax config file. */
export function parseConfigNode(
  src: string,
  filename: string,
  base?: { line: number; column: number; byte: number },
): ParseResult<BodyNode> {
  const file = new SourceFile(filename, src, base);
  const p = new Parser(file, lexConfig(src));
  const body = p.parseBody("EOF", undefined);
  return { node: body, diagnostics: p.diags };
}

/** Parses a standalone expression (e.g. a -var value or a type expression). */
export function parseExpressionNode(
  src: string,
  filename: string,
  base?: { line: number; column: number; byte: number },
): ParseResult<Node> {
  const file = new SourceFile(filename, src, base);
  const p = new Parser(file, lexConfig(src));
  p.pushNewlines(false);
  const expr = p.parseExpression();
  const next = p.peek();
  if (next.type !== "EOF" && !p.recovery) {
    p.diags.push(
      errorDiag("Extra characters after expression", p.range(next), "An expression was successfully parsed, but extra characters were found after it."),
    );
  }
  return { node: expr, diagnostics: p.diags };
}

/** Parses a bare template (no quotes), as used by JSON strings and templatefile(). */
export function parseTemplateNode(
  src: string,
  filename: string,
  base?: { line: number; column: number; byte: number },
): ParseResult<Node> {
  const file = new SourceFile(filename, src, base);
  const p = new Parser(file, lexTemplate(src));
  const toks: Token[] = [];
  while (p.peekRaw().type !== "EOF") toks.push(p.readRaw());
  const eof = p.peekRaw();
  const node = p.parseTemplateTokens(toks, file.range(0, src.length), false, false, eof);
  return { node, diagnostics: p.diags };
}

const BINARY_LEVELS: Array<Partial<Record<TokenType, BinaryOp>>> = [
  { Or: "||" },
  { And: "&&" },
  { EqualOp: "==", NotEqual: "!=" },
  { LessThan: "<", GreaterThan: ">", LessThanEq: "<=", GreaterThanEq: ">=" },
  { Plus: "+", Minus: "-" },
  { Star: "*", Slash: "/", Percent: "%" },
];

const OPENERS: Partial<Record<TokenType, TokenType>> = {
  CBrace: "OBrace",
  CBrack: "OBrack",
  CParen: "OParen",
  CQuote: "OQuote",
  CHeredoc: "OHeredoc",
};

let anonCounter = 0;

/** Blocks and expressions (LIMITS.maxNesting; HCL itself says "Nesting too deep" past this). */
const MAX_NESTING = LIMITS.maxNesting;
const MAX_CHAIN = 1000;

type TemplatePiece =
  | { kind: "lit"; val: string; range: SourceRange; lineStart: boolean }
  | { kind: "interp"; expr: Node; range: SourceRange; stripBefore: boolean; stripAfter: boolean }
  | { kind: "if"; cond: Node; range: SourceRange; stripBefore: boolean; stripAfter: boolean }
  | { kind: "else" | "endif" | "endfor"; range: SourceRange; stripBefore: boolean; stripAfter: boolean }
  | {
      kind: "for";
      keyVar?: string;
      valVar: string;
      coll: Node;
      range: SourceRange;
      stripBefore: boolean;
      stripAfter: boolean;
    };

class Parser {
  readonly diags: Diagnostic[] = [];
  recovery = false;
  private idx = 0;
  private readonly newlineStack: boolean[] = [true];

  constructor(
    readonly file: SourceFile,
    private readonly toks: Token[],
  ) {}

  // ---- token access -------------------------------------------------------------------------

  range(t: Token): SourceRange {
    // Ranges are asked for the same token many times; compute each once.
    return (t.range ??= this.file.range(t.start, t.end));
  }
  pushNewlines(include: boolean): void {
    this.newlineStack.push(include);
  }
  popNewlines(): void {
    this.newlineStack.pop();
  }
  private get includeNewlines(): boolean {
    return this.newlineStack[this.newlineStack.length - 1]!;
  }

  /** Next significant token and the index after it. Comments are skipped; a line comment counts as a newline. */
  private peekCache: { idx: number; nl: boolean; res: [Token, number] } | undefined;

  private next(): [Token, number] {
    const nl = this.includeNewlines;
    const c = this.peekCache;
    if (c && c.idx === this.idx && c.nl === nl) return c.res;
    const res = this.scanNext();
    this.peekCache = { idx: this.idx, nl, res };
    return res;
  }

  private scanNext(): [Token, number] {
    for (let i = this.idx; i < this.toks.length; i++) {
      const t = this.toks[i]!;
      if (t.type === "Comment") {
        if (this.includeNewlines && t.text.endsWith("\n")) {
          return [{ type: "Newline", start: t.start, end: t.end, text: "\n" }, i + 1];
        }
        continue;
      }
      if (t.type === "Newline" && !this.includeNewlines) continue;
      return [t, t.type === "EOF" ? i : i + 1];
    }
    const last = this.toks[this.toks.length - 1]!;
    return [last, this.toks.length - 1];
  }
  peek(): Token {
    return this.next()[0];
  }
  read(): Token {
    const [t, n] = this.next();
    this.prev = t;
    this.idx = n;
    return t;
  }
  /** Raw access used inside templates, where comments and newlines are literal text. */
  peekRaw(): Token {
    return this.toks[Math.min(this.idx, this.toks.length - 1)]!;
  }
  readRaw(): Token {
    const t = this.peekRaw();
    if (t.type !== "EOF") this.idx++;
    this.prev = t;
    return t;
  }
  private prev: Token | undefined;
  private prevRange(): SourceRange {
    return this.prev ? this.range(this.prev) : this.file.range(0, 0);
  }
  private err(summary: string, range: SourceRange, detail?: string): void {
    this.diags.push(errorDiag(summary, range, detail));
  }

  /** Skips to the token closing the current bracket of type `end` (at nesting 0) and returns it. */
  private recover(end: TokenType): Token {
    this.recovery = true;
    const start = OPENERS[end];
    let nest = 0;
    for (;;) {
      const t = this.read();
      let ty = t.type;
      if (end === "TemplateSeqEnd" && ty === "TemplateControl") ty = "TemplateInterp";
      if (ty === start || (end === "TemplateSeqEnd" && ty === "TemplateInterp")) nest++;
      else if (ty === end) {
        if (nest < 1) return t;
        nest--;
      } else if (ty === "EOF") return t;
    }
  }

  /** Skips the rest of a broken body item: up to a newline outside any brackets. */
  private recoverAfterBodyItem(): void {
    this.recovery = true;
    const open: TokenType[] = [];
    for (;;) {
      const t = this.read();
      switch (t.type) {
        case "Newline":
          if (open.length === 0) return;
          break;
        case "EOF":
          return;
        case "OBrace":
        case "OBrack":
        case "OParen":
        case "OQuote":
        case "OHeredoc":
        case "TemplateInterp":
        case "TemplateControl":
          open.push(t.type);
          break;
        case "CBrace":
        case "CBrack":
        case "CParen":
        case "CQuote":
        case "CHeredoc": {
          const opener = OPENERS[t.type];
          while (open.length > 0 && open[open.length - 1] !== opener) open.pop();
          if (open.length > 0) open.pop();
          break;
        }
        case "TemplateSeqEnd":
          while (open.length > 0 && open[open.length - 1] !== "TemplateInterp" && open[open.length - 1] !== "TemplateControl")
            open.pop();
          if (open.length > 0) open.pop();
          break;
      }
    }
  }

  // ---- structure ----------------------------------------------------------------------------

  parseBody(end: "EOF" | "CBrace", openRange: SourceRange | undefined): BodyNode {
    const attributes: AttributeNode[] = [];
    const seen = new Map<string, AttributeNode>();
    const blocks: BlockNode[] = [];
    const startRange = openRange ?? this.file.range(0, 0);
    let endRange: SourceRange;
    for (;;) {
      const next = this.peek();
      if (next.type === end) {
        endRange = this.range(next);
        this.read();
        break;
      }
      if (next.type === "Newline") {
        this.read();
        continue;
      }
      if (next.type === "Ident") {
        const item = this.parseBodyItem();
        if (item?.kind === "attribute") {
          // A map, not a search of the list: a body of 30,000 attributes was quadratic.
          const dup = seen.get(item.name);
          if (dup) {
            this.err(
              "Attribute redefined",
              item.nameRange,
              `The argument "${item.name}" was already set at ${dup.nameRange.filename}:${dup.nameRange.start.line},${dup.nameRange.start.column}-${dup.nameRange.end.column}. Each argument may be set only once.`,
            );
          } else {
            attributes.push(item);
            seen.set(item.name, item);
          }
        } else if (item) blocks.push(item);
        continue;
      }
      const bad = this.read();
      if (!this.recovery) {
        if (bad.type === "OQuote") this.err("Invalid argument name", this.range(bad), "Argument names must not be quoted.");
        else if (bad.type === "EOF") {
          this.err(
            "Unclosed configuration block",
            startRange,
            "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
          );
        } else {
          this.err("Argument or block definition required", this.range(bad), "An argument or block definition is required here.");
        }
      }
      // As HCL does: give up on the rest of this body and continue after its end.
      endRange = this.prevRange();
      if (bad.type !== "EOF") this.recover(end);
      this.recovery = true;
      break;
    }
    const range = openRange ? unionRange(openRange, endRange) : this.file.range(0, this.file.text.length);
    return { attributes, blocks, range, endRange };
  }

  private parseBodyItem(): AttributeNode | BlockNode | undefined {
    const ident = this.read();
    const next = this.peek();
    if (next.type === "Equal") return this.finishAttribute(ident, false);
    if (next.type === "OQuote" || next.type === "OBrace" || next.type === "Ident") return this.finishBlock(ident);
    if (!this.recovery) {
      this.err(
        "Argument or block definition required",
        this.range(ident),
        'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.',
      );
    }
    this.recoverAfterBodyItem();
    return undefined;
  }

  private finishAttribute(ident: Token, singleLine: boolean): AttributeNode {
    const eq = this.read();
    const expr = this.parseExpression();
    let endRange = expr.range;
    if (!singleLine) {
      const end = this.peek();
      if (end.type !== "Newline" && end.type !== "EOF") {
        if (!this.recovery) {
          let summary = "Missing newline after argument";
          let detail = "An argument definition must end with a newline.";
          if (end.type === "Comma") {
            summary = "Unexpected comma after argument";
            detail = "Argument definitions must be separated by newlines, not commas. " + detail;
          }
          this.err(summary, this.range(end), detail);
        }
        this.recoverAfterBodyItem();
      } else {
        this.read();
      }
    }
    return {
      kind: "attribute",
      name: ident.text,
      expr,
      range: unionRange(this.range(ident), endRange),
      nameRange: this.range(ident),
      equalsRange: this.range(eq),
    };
  }

  private finishBlock(ident: Token): BlockNode | undefined {
    const labels: string[] = [];
    const labelRanges: SourceRange[] = [];
    let oBrace: Token;
    for (;;) {
      const tok = this.peek();
      if (tok.type === "OBrace") {
        oBrace = this.read();
        break;
      }
      if (tok.type === "OQuote") {
        const [label, r] = this.parseQuotedStringLiteral();
        labels.push(label);
        labelRanges.push(r);
        continue;
      }
      if (tok.type === "Ident") {
        this.read();
        labels.push(tok.text);
        labelRanges.push(this.range(tok));
        continue;
      }
      if (tok.type === "Equal") {
        this.err("Invalid block definition", this.range(tok), 'The equals sign "=" indicates an argument definition, and must not be used when defining a block.');
      } else if (tok.type === "Newline") {
        this.err(
          "Invalid block definition",
          this.range(tok),
          'A block definition must have block content delimited by "{" and "}", starting on the same line as the block header.',
        );
      } else if (!this.recovery) {
        this.err("Invalid block definition", this.range(tok), 'Either a quoted string block label or an opening brace ("{") is expected here.');
      }
      this.recoverAfterBodyItem();
      return undefined;
    }
    const oRange = this.range(oBrace);
    if (this.depth >= MAX_NESTING) {
      this.err("Nesting too deep", oRange, `Blocks may not be nested more than ${MAX_NESTING} levels deep.`);
      this.recover("CBrace");
      this.recoverAfterBodyItem();
      return undefined;
    }
    let body: BodyNode;
    const first = this.peek();
    this.depth++;
    try {
      if (first.type === "Newline" || first.type === "EOF" || first.type === "CBrace") {
        body = this.parseBody("CBrace", oRange);
      } else {
        body = this.parseSingleAttrBody(oRange);
      }
    } finally {
      this.depth--;
    }
    const cBraceRange = this.prevRange();
    const eol = this.peek();
    if (eol.type === "Newline" || eol.type === "EOF") {
      this.read();
    } else {
      if (!this.recovery) {
        this.err("Missing newline after block definition", this.range(eol), "A block definition must end with a newline.");
      }
      this.recoverAfterBodyItem();
    }
    return {
      kind: "block",
      type: ident.text,
      labels,
      body,
      typeRange: this.range(ident),
      labelRanges,
      openBraceRange: oRange,
      closeBraceRange: cBraceRange,
    };
  }

  private parseSingleAttrBody(oRange: SourceRange): BodyNode {
    const ident = this.read();
    const empty = (): BodyNode => {
      const close = this.recover("CBrace");
      const r = this.range(close);
      return { attributes: [], blocks: [], range: unionRange(oRange, r), endRange: r };
    };
    if (ident.type !== "Ident") {
      this.err(
        "Argument or block definition required",
        this.range(ident),
        'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.',
      );
      return empty();
    }
    const next = this.peek();
    if (next.type === "OQuote" || next.type === "OBrace" || next.type === "Ident") {
      this.err(
        "Argument definition required",
        unionRange(this.range(ident), this.range(next)),
        `A single-line block definition can contain only a single argument. If you meant to define argument "${ident.text}", use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.`,
      );
      return empty();
    }
    if (next.type !== "Equal") {
      this.err(
        "Argument or block definition required",
        this.range(ident),
        'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.',
      );
      return empty();
    }
    const attr = this.finishAttribute(ident, true);
    const end = this.peek();
    if (end.type === "CBrace") {
      this.read();
      const r = this.range(end);
      return { attributes: [attr], blocks: [], range: unionRange(oRange, r), endRange: r };
    }
    if (end.type === "Comma") {
      this.err(
        "Only one argument is allowed in a single-line block definition",
        this.range(end),
        "A single-line block definition can contain only a single argument; place further arguments on lines of their own.",
      );
    } else if (end.type === "Newline") {
      this.err(
        "Invalid single-argument block definition",
        this.range(end),
        "The closing brace for a single-line block definition must be on the same line.",
      );
    } else if (end.type === "EOF") {
      this.err(
        "Unclosed configuration block",
        oRange,
        "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
      );
    } else if (!this.recovery) {
      this.err("Invalid single-argument block definition", this.range(end), "A single-line block definition must end with a closing brace.");
    }
    const close = this.recover("CBrace");
    const r = this.range(close);
    return { attributes: [attr], blocks: [], range: unionRange(oRange, r), endRange: r };
  }

  /** A quoted label: a template that must be a single literal. */
  private parseQuotedStringLiteral(): [string, SourceRange] {
    const open = this.read();
    let text = "";
    let ok = true;
    for (;;) {
      const t = this.readRaw();
      if (t.type === "CQuote") {
        return [text.normalize("NFC"), unionRange(this.range(open), this.range(t))];
      }
      if (t.type === "QuotedLit") {
        text += this.unescape(t, true);
        continue;
      }
      if (t.type === "TemplateInterp" || t.type === "TemplateControl") {
        if (ok && !this.recovery) {
          const which = t.type === "TemplateInterp" ? "$" : "%";
          this.err(
            "Invalid string literal",
            this.range(t),
            `Template sequences are not allowed in this string. To include a literal "${which}", double it (as "${which}${which}") to escape it.`,
          );
        }
        ok = false;
        this.recover("TemplateSeqEnd");
        continue;
      }
      // newline or EOF: unterminated
      if (!this.recovery) this.err("Unterminated template string", this.range(open), "No closing quote was found for the string.");
      this.recovery = true;
      return [text, unionRange(this.range(open), this.range(t))];
    }
  }

  // ---- expressions --------------------------------------------------------------------------

  private depth = 0;

  parseExpression(): Node {
    // Deeply nested input would exhaust the JS stack; HCL configs never nest this far.
    if (this.depth >= MAX_NESTING) {
      const t = this.peek();
      if (!this.recovery) this.err("Nesting too deep", this.range(t), `Expressions may not be nested more than ${MAX_NESTING} levels deep.`);
      this.recovery = true;
      return { kind: "literal", value: V.unknown(), range: this.range(t) };
    }
    this.depth++;
    try {
      return this.parseTernary();
    } finally {
      this.depth--;
    }
  }

  private parseTernary(): Node {
    const cond = this.parseBinary(0);
    if (this.peek().type !== "Question") return cond;
    this.read();
    const t = this.parseExpression();
    const colon = this.peek();
    if (colon.type !== "Colon") {
      if (!this.recovery) {
        this.err(
          "Missing false expression in conditional",
          this.range(colon),
          "The conditional operator (...?...:...) requires a false expression, delimited by a colon.",
        );
      }
      this.recovery = true;
      return { kind: "conditional", cond, trueExpr: t, falseExpr: nullLit(t.range), range: unionRange(cond.range, t.range) };
    }
    this.read();
    const f = this.parseExpression();
    return { kind: "conditional", cond, trueExpr: t, falseExpr: f, range: unionRange(cond.range, f.range) };
  }

  private parseBinary(level: number): Node {
    if (level >= BINARY_LEVELS.length) return this.parseTermWithTraversals();
    const ops = BINARY_LEVELS[level]!;
    let lhs = this.parseBinary(level + 1);
    for (let chain = 0; ; chain++) {
      const t = this.peek();
      const op = ops[t.type];
      if (!op) return lhs;
      if (chain >= MAX_CHAIN) {
        // A left-deep tree this long would exhaust the stack when evaluated.
        if (!this.recovery) this.err("Expression too complex", this.range(t), `An expression may not chain more than ${MAX_CHAIN} operators of the same precedence.`);
        this.recovery = true;
        return lhs;
      }
      this.read();
      const rhs = this.parseBinary(level + 1);
      lhs = { kind: "binary", op, lhs, rhs, range: unionRange(lhs.range, rhs.range), opRange: this.range(t) };
    }
  }

  private parseTermWithTraversals(): Node {
    if (this.depth >= MAX_NESTING) return this.parseExpression(); // reports "Nesting too deep"
    this.depth++;
    try {
      return this.parseTraversals(this.parseTerm());
    } finally {
      this.depth--;
    }
  }

  private parseTerm(): Node {
    const start = this.peek();
    switch (start.type) {
      case "OParen": {
        this.read();
        this.pushNewlines(false);
        const expr = this.parseExpression();
        const close = this.peek();
        let closeTok = close;
        if (close.type !== "CParen") {
          if (!this.recovery) {
            this.err("Unbalanced parentheses", this.range(close), "Expected a closing parenthesis to terminate the expression.");
          }
          closeTok = this.recover("CParen");
        } else this.read();
        this.popNewlines();
        return { kind: "parens", wrapped: expr, range: unionRange(this.range(start), this.range(closeTok)) };
      }
      case "NumberLit": {
        this.read();
        let n: Num | undefined;
        try {
          n = Num.parse(start.text);
        } catch (e) {
          if (!(e instanceof NumError)) throw e;
        }
        if (!n) {
          this.err("Invalid number literal", this.range(start), "Failed to recognize the value of this number literal.");
          return { kind: "literal", value: V.unknown(T.number), range: this.range(start) };
        }
        return { kind: "literal", value: V.number(n), range: this.range(start) };
      }
      case "Ident": {
        this.read();
        const r = this.range(start);
        if (this.peek().type === "OParen") return this.finishFunctionCall(start);
        if (this.peek().type === "DoubleColon") return this.finishNamespacedCall(start);
        if (start.text === "true") return { kind: "literal", value: V.true, range: r };
        if (start.text === "false") return { kind: "literal", value: V.false, range: r };
        if (start.text === "null") return { kind: "literal", value: V.null(), range: r };
        return { kind: "scopeTraversal", traversal: { root: start.text, rootRange: r, steps: [], range: r }, range: r };
      }
      case "OQuote":
      case "OHeredoc":
        return this.parseTemplateExpr();
      case "Minus":
      case "Bang": {
        this.read();
        const operand = this.parseTermWithTraversals();
        return {
          kind: "unary",
          op: start.type === "Minus" ? "-" : "!",
          operand,
          range: unionRange(this.range(start), operand.range),
          opRange: this.range(start),
        };
      }
      case "OBrack":
        return this.parseTupleCons();
      case "OBrace":
        return this.parseObjectCons();
      default: {
        if (!this.recovery) {
          if (start.type === "EOF") {
            this.err("Missing expression", this.range(start), "Expected the start of an expression, but found the end of the file.");
          } else {
            this.err("Invalid expression", this.range(start), "Expected the start of an expression, but found an invalid expression token.");
          }
        }
        this.recovery = true;
        return { kind: "literal", value: V.unknown(), range: this.range(start) };
      }
    }
  }

  private finishNamespacedCall(first: Token): Node {
    let name = first.text;
    while (this.peek().type === "DoubleColon") {
      this.read();
      const part = this.peek();
      if (part.type !== "Ident") {
        if (!this.recovery) this.err("Missing function name", this.range(part), "Function scope resolution symbol :: must be followed by a function name in this scope.");
        this.recovery = true;
        return { kind: "literal", value: V.unknown(), range: this.range(first) };
      }
      this.read();
      name += "::" + part.text;
    }
    if (this.peek().type !== "OParen") {
      if (!this.recovery) this.err("Missing open parenthesis", this.range(this.peek()), "Function selector must be followed by an open parenthesis to begin the function call.");
      this.recovery = true;
      return { kind: "literal", value: V.unknown(), range: this.range(first) };
    }
    const call = this.finishFunctionCall(first);
    if (call.kind === "call") call.name = name;
    return call;
  }

  private finishFunctionCall(name: Token): Node {
    const open = this.read();
    this.pushNewlines(false);
    const args: Node[] = [];
    let expandFinal = false;
    let close: Token;
    for (;;) {
      const next = this.peek();
      if (next.type === "CParen") {
        close = this.read();
        break;
      }
      const arg = this.parseExpression();
      args.push(arg);
      const sep = this.peek();
      if (sep.type === "Ellipsis") {
        this.read();
        expandFinal = true;
        const c = this.peek();
        if (c.type !== "CParen") {
          if (!this.recovery) {
            this.err(
              "Missing closing parenthesis",
              this.range(c),
              "An expanded function argument (with ...) must be immediately followed by closing parentheses.",
            );
          }
          close = this.recover("CParen");
        } else close = this.read();
        break;
      }
      if (sep.type === "CParen") {
        close = this.read();
        break;
      }
      if (sep.type !== "Comma") {
        if (!this.recovery) {
          this.err("Missing argument separator", this.range(sep), "A comma is required to separate each function argument from the next.");
        }
        close = this.recover("CParen");
        break;
      }
      this.read();
    }
    this.popNewlines();
    return {
      kind: "call",
      name: name.text,
      nameRange: this.range(name),
      args,
      expandFinal,
      range: unionRange(this.range(name), this.range(close)),
      openParenRange: this.range(open),
      closeParenRange: this.range(close),
    };
  }

  private parseTraversals(from: Node): Node {
    let ret = from;
    for (;;) {
      const next = this.peek();
      if (next.type === "Dot") {
        const dot = this.read();
        const t = this.peek();
        if (t.type === "Ident") {
          this.read();
          ret = addStep(ret, { kind: "attr", name: t.text, range: unionRange(this.range(dot), this.range(t)) });
          continue;
        }
        if (t.type === "NumberLit") {
          this.read();
          // Legacy index syntax from HIL: foo.0 means foo[0].
          const n = Num.parse(t.text) ?? Num.ZERO;
          ret = addStep(ret, { kind: "index", key: V.number(n), range: unionRange(this.range(dot), this.range(t)) });
          continue;
        }
        if (t.type === "Star") {
          const marker = this.read();
          const item: AnonSymbol = { kind: "anon", range: unionRange(this.range(dot), this.range(marker)), id: ++anonCounter };
          let each: Node = item;
          let last = this.range(marker);
          while (this.peek().type === "Dot") {
            const d = this.read();
            const a = this.peek();
            if (a.type === "NumberLit") {
              this.read();
              each = addStep(each, { kind: "index", key: V.number(Num.parse(a.text) ?? Num.ZERO), range: unionRange(this.range(d), this.range(a)) });
              last = this.range(a);
              continue;
            }
            if (a.type !== "Ident") {
              if (!this.recovery) {
                if (a.type === "Star") {
                  this.err("Nested splat expression not allowed", this.range(a), "A splat expression (*) cannot be used inside another attribute-only splat expression.");
                } else {
                  this.err("Invalid attribute name", this.range(a), "An attribute name is required after a dot.");
                }
              }
              this.recovery = true;
              break;
            }
            this.read();
            each = addStep(each, { kind: "attr", name: a.text, range: unionRange(this.range(d), this.range(a)) });
            last = this.range(a);
          }
          ret = { kind: "splat", source: ret, each, item, range: unionRange(ret.range, last), markerRange: item.range };
          continue;
        }
        if (!this.recovery) {
          this.err("Invalid attribute name", this.range(t), "An attribute name is required after a dot.");
        }
        this.recovery = true;
        return ret;
      }
      if (next.type === "OBrack") {
        const open = this.read();
        this.pushNewlines(false);
        if (this.peek().type === "Star") {
          this.read();
          const close = this.peek();
          if (close.type !== "CBrack") {
            if (!this.recovery) this.err("Missing close bracket on splat index", this.range(close), "The star for a full splat operator must be immediately followed by a closing bracket (\"]\").");
            this.recover("CBrack");
          } else this.read();
          this.popNewlines();
          const markerRange = unionRange(this.range(open), this.range(close));
          const item: AnonSymbol = { kind: "anon", range: markerRange, id: ++anonCounter };
          if (this.depth >= MAX_NESTING) return this.parseExpression();
          this.depth++;
          let each: Node;
          try {
            each = this.parseTraversals(item);
          } finally {
            this.depth--;
          }
          ret = { kind: "splat", source: ret, each, item, range: unionRange(ret.range, each.range), markerRange };
          continue;
        }
        const key = this.parseExpression();
        const close = this.peek();
        let closeTok = close;
        if (close.type !== "CBrack") {
          if (!this.recovery) this.err("Missing close bracket on index", this.range(close), "The index operator must end with a closing bracket (\"]\").");
          closeTok = this.recover("CBrack");
        } else this.read();
        this.popNewlines();
        const bracketRange = unionRange(this.range(open), this.range(closeTok));
        const lit = literalKey(key);
        if (lit) ret = addStep(ret, { kind: "index", key: lit, range: bracketRange });
        else ret = { kind: "index", collection: ret, key, range: unionRange(ret.range, bracketRange), bracketRange };
        continue;
      }
      return ret;
    }
  }

  private parseTupleCons(): Node {
    const open = this.read();
    this.pushNewlines(false);
    try {
      if (isKeyword(this.peek(), "for")) return this.finishFor(open, false);
      const items: Node[] = [];
      let close: Token;
      for (;;) {
        const next = this.peek();
        if (next.type === "CBrack") {
          close = this.read();
          break;
        }
        const item = this.parseExpression();
        items.push(item);
        const sep = this.peek();
        if (sep.type === "CBrack") {
          close = this.read();
          break;
        }
        if (sep.type !== "Comma") {
          if (!this.recovery) {
            if (sep.type === "EOF") {
              this.err("Unterminated tuple constructor expression", this.range(open), "There is no corresponding closing bracket before the end of the file. This may be caused by incorrect bracket nesting elsewhere in this file.");
            } else {
              this.err("Missing item separator", this.range(sep), "Expected a comma to mark the beginning of the next item.");
            }
          }
          close = this.recover("CBrack");
          break;
        }
        this.read();
      }
      return { kind: "tuple", items, range: unionRange(this.range(open), this.range(close)), openRange: this.range(open) };
    } finally {
      this.popNewlines();
    }
  }

  private parseObjectCons(): Node {
    const open = this.read();
    // `for` expressions are not newline-sensitive, so look for the keyword past newlines.
    this.pushNewlines(false);
    const isFor = isKeyword(this.peek(), "for");
    this.popNewlines();
    if (isFor) return this.finishFor(open, true);
    this.pushNewlines(true);
    try {
      const items: { key: Node; value: Node }[] = [];
      let close: Token;
      for (;;) {
        let next = this.peek();
        if (next.type === "Newline") {
          this.read();
          continue;
        }
        if (next.type === "CBrace") {
          close = this.read();
          break;
        }
        const forceNonLiteral = next.type === "OParen";
        const nd = this.diags.length;
        const keyExpr = this.parseExpression();
        if (this.recovery && this.diags.length > nd) {
          close = this.recover("CBrace");
          break;
        }
        const key: Node = { kind: "objectKey", wrapped: keyExpr, forceNonLiteral, range: keyExpr.range };
        next = this.peek();
        if (next.type !== "Equal" && next.type !== "Colon") {
          if (!this.recovery) {
            if (next.type === "Newline" || next.type === "Comma") {
              this.err("Missing attribute value", this.range(next), 'Expected an attribute value, introduced by an equals sign ("=").');
            } else if (next.type === "EOF") {
              this.err(
                "Unterminated object constructor expression",
                this.range(open),
                "There is no corresponding closing brace before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
              );
            } else {
              this.err(
                "Missing key/value separator",
                this.range(next),
                'Expected an equals sign ("=") to mark the beginning of the attribute value.',
              );
            }
          }
          close = this.recover("CBrace");
          break;
        }
        this.read();
        const nd2 = this.diags.length;
        const value = this.parseExpression();
        if (this.recovery && this.diags.length > nd2) {
          close = this.recover("CBrace");
          items.push({ key, value });
          break;
        }
        items.push({ key, value });
        next = this.peek();
        if (next.type === "Newline") {
          this.read();
          continue;
        }
        if (next.type === "CBrace") {
          close = this.read();
          break;
        }
        if (next.type !== "Comma") {
          if (!this.recovery) {
            if (next.type === "EOF") {
              this.err(
                "Unterminated object constructor expression",
                this.range(open),
                "There is no corresponding closing brace before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
              );
            } else {
              this.err("Missing attribute separator", this.range(next), "Expected a newline or comma to mark the beginning of the next attribute.");
            }
          }
          close = this.recover("CBrace");
          break;
        }
        this.read();
      }
      return { kind: "object", items, range: unionRange(this.range(open), this.range(close)), openRange: this.range(open) };
    } finally {
      this.popNewlines();
    }
  }

  private finishFor(open: Token, isObject: boolean): Node {
    this.pushNewlines(false);
    try {
      const closeType: TokenType = isObject ? "CBrace" : "CBrack";
      const fail = (summary: string, r: SourceRange, detail: string): Node => {
        if (!this.recovery) this.err(summary, r, detail);
        const close = this.recover(closeType);
        return { kind: "literal", value: V.unknown(), range: unionRange(this.range(open), this.range(close)) };
      };
      this.read(); // "for"
      const first = this.peek();
      if (first.type !== "Ident") return fail("Invalid 'for' expression", this.range(first), "For expression requires variable name after 'for'.");
      this.read();
      let keyVar: string | undefined;
      let valVar = first.text;
      if (this.peek().type === "Comma") {
        this.read();
        const second = this.peek();
        if (second.type !== "Ident") return fail("Invalid 'for' expression", this.range(second), "For expression requires value variable name after comma.");
        this.read();
        keyVar = first.text;
        valVar = second.text;
      }
      if (!isKeyword(this.peek(), "in")) return fail("Invalid 'for' expression", this.range(this.peek()), "For expression requires the 'in' keyword after its name declarations.");
      this.read();
      const collection = this.parseExpression();
      if (this.peek().type !== "Colon") return fail("Invalid 'for' expression", this.range(this.peek()), "For expression requires a colon after the collection expression.");
      this.read();
      let keyExpr: Node | undefined;
      let valExpr = this.parseExpression();
      if (isObject) {
        if (this.peek().type !== "FatArrow") return fail("Invalid 'for' expression", this.range(this.peek()), "Key expression is required when building an object.");
        this.read();
        keyExpr = valExpr;
        valExpr = this.parseExpression();
      }
      let group = false;
      if (this.peek().type === "Ellipsis") {
        if (!isObject) return fail("Invalid 'for' expression", this.range(this.peek()), "Grouping ellipsis (...) cannot be used when building a tuple.");
        this.read();
        group = true;
      }
      let condExpr: Node | undefined;
      if (isKeyword(this.peek(), "if")) {
        this.read();
        condExpr = this.parseExpression();
      }
      const close = this.peek();
      if (close.type !== closeType) {
        const detail = isObject ? "Extra characters after the end of the 'for' expression." : "Extra characters after the end of the 'for' expression.";
        return fail("Invalid 'for' expression", this.range(close), detail);
      }
      this.read();
      return {
        kind: "for",
        keyVar,
        valVar,
        collection,
        keyExpr,
        valExpr,
        condExpr,
        group,
        range: unionRange(this.range(open), this.range(close)),
        openRange: this.range(open),
        closeRange: this.range(close),
      };
    } finally {
      this.popNewlines();
    }
  }

  // ---- templates ----------------------------------------------------------------------------

  private parseTemplateExpr(): Node {
    const open = this.read();
    const heredoc = open.type === "OHeredoc";
    const flush = heredoc && open.text.startsWith("<<-");
    const toks: Token[] = [];
    let close: Token;
    // Nested templates inside ${ } have their own delimiters: only stop at depth 0.
    let depth = 0;
    for (;;) {
      const t = this.peekRaw();
      if (t.type === "TemplateInterp" || t.type === "TemplateControl") depth++;
      else if (t.type === "TemplateSeqEnd" && depth > 0) depth--;
      if (depth === 0 && ((!heredoc && t.type === "CQuote") || (heredoc && t.type === "CHeredoc"))) {
        close = this.readRaw();
        break;
      }
      if (t.type === "EOF" || t.type === "QuotedNewline") {
        if (!this.recovery) {
          if (t.type === "QuotedNewline") {
            this.err(
              "Invalid multi-line string",
              this.range(t),
              'Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the "heredoc" multi-line template syntax.',
            );
          } else if (heredoc) {
            this.err("Unterminated template string", this.range(open), `No closing marker was found for the string.`);
          } else {
            this.err("Unterminated template string", this.range(open), "No closing quote was found for the string.");
          }
        }
        this.recovery = true;
        if (t.type === "QuotedNewline") this.readRaw();
        close = t;
        break;
      }
      toks.push(this.readRaw());
    }
    const range = unionRange(this.range(open), this.range(close));
    return this.parseTemplateTokens(toks, range, !heredoc, flush, close);
  }

  /** Builds a template node from the tokens between the delimiters. */
  parseTemplateTokens(toks: Token[], range: SourceRange, quoted: boolean, flush: boolean, endTok: Token): Node {
    const pieces: TemplatePiece[] = [];
    let lineStart = true;
    let i = 0;
    const sub = new Parser(this.file, [...toks, { ...endTok, type: "EOF" }]);
    sub.recovery = this.recovery;
    sub.depth = this.depth + 1;
    while (i < toks.length) {
      const t = toks[i]!;
      if (t.type === "QuotedLit" || t.type === "StringLit") {
        pieces.push({ kind: "lit", val: this.unescape(t, quoted), range: this.range(t), lineStart });
        lineStart = t.text.endsWith("\n");
        i++;
        continue;
      }
      lineStart = false;
      if (t.type === "TemplateInterp" || t.type === "TemplateControl") {
        sub.idx = i + 1;
        sub.pushNewlines(false);
        const stripBefore = t.text.endsWith("~");
        if (t.type === "TemplateInterp") {
          const expr = sub.parseExpression();
          const [end, stripAfter] = sub.expectSeqEnd();
          pieces.push({ kind: "interp", expr, range: unionRange(this.range(t), end), stripBefore, stripAfter });
        } else {
          const kw = sub.peek();
          const piece = sub.parseDirective(kw, this.range(t), stripBefore);
          if (piece) pieces.push(piece);
        }
        sub.popNewlines();
        i = sub.idx;
        continue;
      }
      // Anything else inside a template is a scanner-level problem.
      if (!sub.recovery) sub.err("Invalid template", this.range(t), "Unexpected token in template.");
      sub.recovery = true;
      i++;
    }
    this.diags.push(...sub.diags);
    if (sub.recovery) this.recovery = true;
    // HCL strips around ~ markers while reading the parts, before the <<- indentation pass.
    applyStrip(pieces);
    if (flush) flushHeredoc(pieces);
    const built = this.buildTemplate(pieces, 0, range, []);
    const parts = built.parts;
    if (parts.length === 1 && parts[0]!.kind !== "literal" && parts[0]!.kind !== "templateIf" && parts[0]!.kind !== "templateFor") {
      return { kind: "templateWrap", wrapped: parts[0]!, range };
    }
    return { kind: "template", parts, range, heredoc: !quoted };
  }

  /** Reads `}` or `~}` closing a template sequence; returns its range and whether it strips. */
  private expectSeqEnd(): [SourceRange, boolean] {
    const t = this.peek();
    if (t.type === "TemplateSeqEnd") {
      this.read();
      return [this.range(t), t.text.startsWith("~")];
    }
    if (!this.recovery) {
      this.err("Extra characters after interpolation expression", this.range(t), "Expected a closing brace to end the interpolation expression, but found extra characters.");
    }
    const end = this.recover("TemplateSeqEnd");
    return [this.range(end), end.text.startsWith("~")];
  }

  private parseDirective(kw: Token, openRange: SourceRange, stripBefore: boolean): TemplatePiece | undefined {
    const word = kw.type === "Ident" ? kw.text : "";
    if (word === "if") {
      this.read();
      const cond = this.parseExpression();
      const [end, stripAfter] = this.expectSeqEnd();
      return { kind: "if", cond, range: unionRange(openRange, end), stripBefore, stripAfter };
    }
    if (word === "else" || word === "endif" || word === "endfor") {
      this.read();
      const [end, stripAfter] = this.expectSeqEnd();
      return { kind: word, range: unionRange(openRange, end), stripBefore, stripAfter };
    }
    if (word === "for") {
      this.read();
      const a = this.peek();
      if (a.type !== "Ident") {
        if (!this.recovery) this.err("Invalid 'for' directive", this.range(a), "For directive requires variable name after 'for'.");
        this.recover("TemplateSeqEnd");
        return undefined;
      }
      this.read();
      let keyVar: string | undefined;
      let valVar = a.text;
      if (this.peek().type === "Comma") {
        this.read();
        const b = this.peek();
        if (b.type !== "Ident") {
          if (!this.recovery) this.err("Invalid 'for' directive", this.range(b), "For directive requires value variable name after comma.");
          this.recover("TemplateSeqEnd");
          return undefined;
        }
        this.read();
        keyVar = a.text;
        valVar = b.text;
      }
      if (!isKeyword(this.peek(), "in")) {
        if (!this.recovery) this.err("Invalid 'for' directive", this.range(this.peek()), "For directive requires 'in' keyword after names.");
        this.recover("TemplateSeqEnd");
        return undefined;
      }
      this.read();
      const coll = this.parseExpression();
      const [end, stripAfter] = this.expectSeqEnd();
      return { kind: "for", keyVar, valVar, coll, range: unionRange(openRange, end), stripBefore, stripAfter };
    }
    if (!this.recovery) {
      this.err("Invalid template directive", this.range(kw), 'A template directive keyword ("if", "for", etc) is expected at the beginning of a %{ sequence.');
    }
    this.recover("TemplateSeqEnd");
    return undefined;
  }

  /**
   * Turns the flat piece list into nodes, nesting if/for bodies. Returns the parts and the index
   * of the piece that ended this level (else/endif/endfor) or pieces.length.
   */
  private buildTemplate(
    pieces: TemplatePiece[],
    from: number,
    range: SourceRange,
    stops: Array<"else" | "endif" | "endfor">,
  ): { parts: Node[]; next: number; stop?: TemplatePiece } {
    const parts: Node[] = [];
    let i = from;
    while (i < pieces.length) {
      const p = pieces[i]!;
      switch (p.kind) {
        case "lit":
          if (p.val !== "") parts.push({ kind: "literal", value: V.string(p.val), range: p.range });
          i++;
          break;
        case "interp":
          parts.push(p.expr);
          i++;
          break;
        case "if": {
          const t = this.buildTemplate(pieces, i + 1, range, ["else", "endif"]);
          let f: { parts: Node[]; next: number; stop?: TemplatePiece } | undefined;
          let endPiece = t.stop;
          let next = t.next;
          if (t.stop?.kind === "else") {
            f = this.buildTemplate(pieces, t.next + 1, range, ["endif"]);
            endPiece = f.stop;
            next = f.next;
          }
          if (!endPiece || endPiece.kind !== "endif") {
            if (!this.recovery) this.err("Unterminated template directive", p.range, "There is no corresponding %{ endif } directive for this %{ if }.");
            this.recovery = true;
          }
          const endRange = endPiece?.range ?? p.range;
          parts.push({
            kind: "templateIf",
            cond: p.cond,
            trueT: { kind: "template", parts: t.parts, range: p.range, heredoc: false },
            falseT: f ? { kind: "template", parts: f.parts, range: p.range, heredoc: false } : undefined,
            range: unionRange(p.range, endRange),
          });
          i = next + 1;
          break;
        }
        case "for": {
          const b = this.buildTemplate(pieces, i + 1, range, ["endfor"]);
          if (!b.stop || b.stop.kind !== "endfor") {
            if (!this.recovery) this.err("Unterminated template directive", p.range, "There is no corresponding %{ endfor } directive for this %{ for }.");
            this.recovery = true;
          }
          parts.push({
            kind: "templateFor",
            keyVar: p.keyVar,
            valVar: p.valVar,
            collection: p.coll,
            body: { kind: "template", parts: b.parts, range: p.range, heredoc: false },
            range: unionRange(p.range, b.stop?.range ?? p.range),
          });
          i = b.next + 1;
          break;
        }
        default: {
          if ((stops as string[]).includes(p.kind)) return { parts, next: i, stop: p };
          if (!this.recovery) {
            const opener = p.kind === "endfor" ? "for" : "if";
            this.err(`Unexpected ${p.kind} directive`, p.range, `The ${p.kind} directive has no corresponding %{ ${opener} }.`);
          }
          this.recovery = true;
          i++;
        }
      }
    }
    return { parts, next: pieces.length };
  }

  /** Decodes a literal template chunk: escapes (quoted only), $${ and %%{, then NFC. */
  private unescape(t: Token, quoted: boolean): string {
    const s = t.text;
    let out = "";
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if ((c === "$" || c === "%") && s[i + 1] === c && s[i + 2] === "{") {
        out += c + "{";
        i += 2;
        continue;
      }
      if (c !== "\\" || !quoted) {
        out += c;
        continue;
      }
      const e = s[i + 1];
      const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
      if (e !== undefined && e in simple) {
        out += simple[e];
        i++;
        continue;
      }
      if (e === "u" || e === "U") {
        const len = e === "u" ? 4 : 8;
        const hex = s.slice(i + 2, i + 2 + len);
        if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === len) {
          const cp = parseInt(hex, 16);
          if (cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
            out += String.fromCodePoint(cp);
            i += 1 + len;
            continue;
          }
        }
        this.err("Invalid escape sequence", this.file.range(t.start + i, t.start + Math.min(s.length, i + 2 + len)), `The \\${e} escape sequence requires ${len} hexadecimal digits.`);
        i += 1;
        continue;
      }
      this.err(
        "Invalid escape sequence",
        this.file.range(t.start + i, t.start + i + (e === undefined ? 1 : 2)),
        `The symbol ${JSON.stringify(e ?? "")} is not a valid escape sequence selector.`,
      );
      if (e !== undefined) {
        out += e;
        i++;
      }
    }
    return out.normalize("NFC");
  }
}

function isKeyword(t: Token, word: string): boolean {
  return t.type === "Ident" && t.text === word;
}

function nullLit(range: SourceRange): Node {
  return { kind: "literal", value: V.null(), range };
}

/** A key that is a literal (number, or a template with only literal text) becomes a static traversal step. */
function literalKey(n: Node): import("./value.ts").Value | undefined {
  if (n.kind === "literal") return n.value.isKnown ? n.value : undefined;
  if (n.kind === "template" && n.parts.length === 1 && n.parts[0]!.kind === "literal") return n.parts[0].value;
  if (n.kind === "template" && n.parts.length === 0) return V.string("");
  return undefined;
}

/** Appends a static step to a traversal-like node, or starts a relative traversal. */
function addStep(n: Node, step: TraverseStep): Node {
  if (n.kind === "scopeTraversal") {
    const tr = n.traversal;
    const traversal = { ...tr, steps: [...tr.steps, step], range: unionRange(tr.range, step.range) };
    return { kind: "scopeTraversal", traversal, range: traversal.range };
  }
  if (n.kind === "relativeTraversal") {
    return { kind: "relativeTraversal", source: n.source, steps: [...n.steps, step], range: unionRange(n.range, step.range) };
  }
  return { kind: "relativeTraversal", source: n, steps: [step], range: unionRange(n.range, step.range) };
}

const SPACE = /\s/u;

/** `<<-` heredocs: remove the smallest leading-space count (in characters) from every line. */
function flushHeredoc(pieces: TemplatePiece[]): void {
  let min = Infinity;
  const adjust: Array<Extract<TemplatePiece, { kind: "lit" }>> = [];
  let newline = true;
  for (const p of pieces) {
    if (newline) {
      newline = false;
      if (p.kind === "lit") {
        const chars = [...p.val];
        let n = 0;
        while (n < chars.length && SPACE.test(chars[n]!) && chars[n] !== "\n") n++;
        const blank = n === chars.length - 1 && p.val.endsWith("\n");
        if (blank || (n === chars.length && p.val.endsWith("\n"))) {
          // blank lines do not count
        } else {
          adjust.push(p);
          min = Math.min(min, n);
        }
      } else {
        min = 0;
      }
    }
    if (p.kind === "lit" && p.val.endsWith("\n")) newline = true;
  }
  if (!Number.isFinite(min)) return;
  for (const p of adjust) {
    const chars = [...p.val];
    p.val = chars.slice(min).join("");
  }
}

/** Applies `~` strip markers to the neighbouring literal pieces. */
function applyStrip(pieces: TemplatePiece[]): void {
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (p.kind === "lit") continue;
    if (p.stripBefore) {
      const prev = pieces[i - 1];
      if (prev?.kind === "lit") prev.val = prev.val.replace(/\s+$/u, "");
    }
    if (p.stripAfter) {
      const next = pieces[i + 1];
      if (next?.kind === "lit") next.val = next.val.replace(/^\s+/u, "");
    }
  }
}
