// The native-syntax parser: tokens → syntax tree (ast.ts) plus diagnostics. It follows the
// structure and error recovery of HCL's Go parser so diagnostics land on the same ranges
// (the spec suite compares them exactly).
import type { Diagnostic, Pos, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import { LIMITS } from "../values/limits.ts";
import type { AnonSymbol, AttributeNode, BinaryOp, BlockNode, BodyNode, Node, TraverseStep } from "./ast.ts";
import { lexConfig, lexTemplate, type Token, type TokenType } from "./lexer.ts";
import { parseTemplateExpr, parseTemplateTokens, unescapeTemplateLiteral } from "./parser-template.ts";
import { Num, NumError } from "./num.ts";
import { SourceFile, unionRange } from "../source/source-file.ts";
import { T } from "./types.ts";
import { V } from "./value.ts";

export interface ParseResult<N> {
  node: N;
  diagnostics: Diagnostic[];
}

/** Parses a whole native-syntax config file. */
export function parseConfigNode(src: string, filename: string, base?: Pos): ParseResult<BodyNode> {
  const p = new Parser(new SourceFile(filename, src, { base, columns: "grapheme" }), lexConfig(src));
  const body = p.parseBody("EOF", undefined);
  return { node: body, diagnostics: p.diags };
}

/** Parses a standalone expression (e.g. a -var value or a type expression). */
export function parseExpressionNode(src: string, filename: string, base?: Pos): ParseResult<Node> {
  const p = new Parser(new SourceFile(filename, src, { base, columns: "grapheme" }), lexConfig(src));
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
export function parseTemplateNode(src: string, filename: string, base?: Pos): ParseResult<Node> {
  const file = new SourceFile(filename, src, { base, columns: "grapheme" });
  const p = new Parser(file, lexTemplate(src));
  const toks: Token[] = [];
  while (p.peekRaw().type !== "EOF") toks.push(p.readRaw());
  const eof = p.peekRaw();
  const node = parseTemplateTokens(p, toks, file.range(0, src.length), false, false, eof);
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

const ARGUMENT_REQUIRED_DETAIL =
  'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.';
const UNCLOSED_BLOCK: [string, string] = [
  "Unclosed configuration block",
  "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
];
const UNTERMINATED_OBJECT: [string, string] = [
  "Unterminated object constructor expression",
  "There is no corresponding closing brace before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
];

/** Blocks and expressions (LIMITS.maxNesting; HCL itself says "Nesting too deep" past this). */
const MAX_NESTING = LIMITS.maxNesting;
const MAX_CHAIN = 1000;


export class Parser {
  readonly diags: Diagnostic[] = [];
  recovery = false;
  /** Index of the next raw token (template parsing moves it over the pieces it has read). */
  idx = 0;
  private readonly newlineStack: boolean[] = [true];

  constructor(
    readonly file: SourceFile,
    private readonly toks: Token[],
  ) {}

  /** A parser over a template's own tokens, one level deeper, inheriting the recovery state. */
  sub(toks: Token[]): Parser {
    const sub = new Parser(this.file, toks);
    sub.recovery = this.recovery;
    sub.depth = this.depth + 1;
    return sub;
  }

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
  err(summary: string, range: SourceRange, detail?: string): void {
    this.diags.push(errorDiag(summary, range, detail));
  }

  /** Skips to the token closing the current bracket of type `end` (at nesting 0) and returns it. */
  recover(end: TokenType): Token {
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

  /**
   * Reads the closing token `end` if it is next; otherwise reports (unless already recovering) and
   * skips to it. Returns the token that ended the construct.
   */
  expectClose(end: TokenType, summary: string, detail: string): Token {
    const t = this.peek();
    if (t.type === end) return this.read();
    if (!this.recovery) this.err(summary, this.range(t), detail);
    return this.recover(end);
  }

  /**
   * A list (tuple, object) lacks its separator at `sep`: at the end of the file it is
   * unterminated (reported at its opening), otherwise the separator is missing. Skips to `end`.
   */
  private missingSeparator(sep: Token, open: Token, end: TokenType, unterminated: [string, string], missing: [string, string]): Token {
    if (!this.recovery) {
      if (sep.type === "EOF") this.err(unterminated[0], this.range(open), unterminated[1]);
      else this.err(missing[0], this.range(sep), missing[1]);
    }
    return this.recover(end);
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
          this.err(UNCLOSED_BLOCK[0], startRange, UNCLOSED_BLOCK[1]);
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
      this.err("Argument or block definition required", this.range(ident), ARGUMENT_REQUIRED_DETAIL);
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
    // After an error: skip to the closing brace, which ends the body.
    const recovered = (attributes: AttributeNode[]): BodyNode => {
      const r = this.range(this.recover("CBrace"));
      return { attributes, blocks: [], range: unionRange(oRange, r), endRange: r };
    };
    const empty = (): BodyNode => recovered([]);
    if (ident.type !== "Ident") {
      this.err("Argument or block definition required", this.range(ident), ARGUMENT_REQUIRED_DETAIL);
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
      this.err("Argument or block definition required", this.range(ident), ARGUMENT_REQUIRED_DETAIL);
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
      this.err(UNCLOSED_BLOCK[0], oRange, UNCLOSED_BLOCK[1]);
    } else if (!this.recovery) {
      this.err("Invalid single-argument block definition", this.range(end), "A single-line block definition must end with a closing brace.");
    }
    return recovered([attr]);
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
        text += unescapeTemplateLiteral(this, t, true);
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

  depth = 0;

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
        const closeTok = this.expectClose("CParen", "Unbalanced parentheses", "Expected a closing parenthesis to terminate the expression.");
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
        return parseTemplateExpr(this);
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
        close = this.expectClose(
          "CParen",
          "Missing closing parenthesis",
          "An expanded function argument (with ...) must be immediately followed by closing parentheses.",
        );
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
          // The marker ends at the token after the star, even when that is not the bracket.
          const close = this.peek();
          this.expectClose("CBrack", "Missing close bracket on splat index", 'The star for a full splat operator must be immediately followed by a closing bracket ("]").');
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
        const closeTok = this.expectClose("CBrack", "Missing close bracket on index", 'The index operator must end with a closing bracket ("]").');
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
          close = this.missingSeparator(
            sep,
            open,
            "CBrack",
            [
              "Unterminated tuple constructor expression",
              "There is no corresponding closing bracket before the end of the file. This may be caused by incorrect bracket nesting elsewhere in this file.",
            ],
            ["Missing item separator", "Expected a comma to mark the beginning of the next item."],
          );
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
          if ((next.type === "Newline" || next.type === "Comma") && !this.recovery) {
            this.err("Missing attribute value", this.range(next), 'Expected an attribute value, introduced by an equals sign ("=").');
            this.recovery = true;
          }
          close = this.missingSeparator(next, open, "CBrace", UNTERMINATED_OBJECT, [
            "Missing key/value separator",
            'Expected an equals sign ("=") to mark the beginning of the attribute value.',
          ]);
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
        if (next.type === "Newline" || next.type === "Comma") {
          this.read();
          continue;
        }
        // A closing brace ends the loop at the top.
        if (next.type !== "CBrace") {
          close = this.missingSeparator(next, open, "CBrace", UNTERMINATED_OBJECT, [
            "Missing attribute separator",
            "Expected a newline or comma to mark the beginning of the next attribute.",
          ]);
          break;
        }
      }
      return { kind: "object", items, range: unionRange(this.range(open), this.range(close)), openRange: this.range(open) };
    } finally {
      this.popNewlines();
    }
  }

  /**
   * The `v in` or `k, v in` after the `for` of a for expression or template directive, or what
   * is wrong with it (the caller reports it and recovers to its own closing token).
   */
  parseForNames(
    what: "expression" | "directive",
  ): { keyVar?: string; valVar: string } | { summary: string; range: SourceRange; detail: string } {
    const bad = (t: Token, requires: string) => ({
      summary: `Invalid 'for' ${what}`,
      range: this.range(t),
      detail: `For ${what} requires ${requires}.`,
    });
    const first = this.peek();
    if (first.type !== "Ident") return bad(first, "variable name after 'for'");
    this.read();
    let keyVar: string | undefined;
    let valVar = first.text;
    if (this.peek().type === "Comma") {
      this.read();
      const second = this.peek();
      if (second.type !== "Ident") return bad(second, "value variable name after comma");
      this.read();
      keyVar = first.text;
      valVar = second.text;
    }
    if (!isKeyword(this.peek(), "in")) {
      return bad(this.peek(), what === "expression" ? "the 'in' keyword after its name declarations" : "'in' keyword after names");
    }
    this.read();
    return { keyVar, valVar };
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
      const names = this.parseForNames("expression");
      if ("summary" in names) return fail(names.summary, names.range, names.detail);
      const { keyVar, valVar } = names;
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
        return fail("Invalid 'for' expression", this.range(close), "Extra characters after the end of the 'for' expression.");
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
