// The native-syntax scanner. It produces the same token kinds as HCL's Go scanner, including
// comments and newlines, so both the parser and the formatter (which works on tokens, like
// hclwrite) use it. Templates are scanned with a mode stack: quoted strings and heredocs switch to
// template mode, `${` / `%{` switch back to expression mode until the matching `}`.

export type TokenType =
  | "OBrace"
  | "CBrace"
  | "OBrack"
  | "CBrack"
  | "OParen"
  | "CParen"
  | "OQuote"
  | "CQuote"
  | "OHeredoc"
  | "CHeredoc"
  | "Star"
  | "Slash"
  | "Plus"
  | "Minus"
  | "Percent"
  | "Equal"
  | "EqualOp"
  | "NotEqual"
  | "LessThan"
  | "LessThanEq"
  | "GreaterThan"
  | "GreaterThanEq"
  | "And"
  | "Or"
  | "Bang"
  | "Dot"
  | "Comma"
  | "DoubleColon"
  | "Ellipsis"
  | "FatArrow"
  | "Question"
  | "Colon"
  | "TemplateInterp"
  | "TemplateControl"
  | "TemplateSeqEnd"
  | "QuotedLit"
  | "StringLit"
  | "NumberLit"
  | "Ident"
  | "Comment"
  | "Newline"
  | "EOF"
  | "Invalid"
  | "QuotedNewline";

export interface Token {
  type: TokenType;
  /** UTF-16 offsets into the source text, half-open. */
  start: number;
  end: number;
  text: string;
  /** Source range, filled in lazily by the parser. */
  range?: import("../errors/diagnostic.ts").SourceRange;
}

type Mode =
  | { kind: "expr"; braces: number; inTemplate: boolean }
  | { kind: "quoted" }
  | { kind: "heredoc"; marker: string; startOfLine: boolean };

const IDENT_START = /[\p{ID_Start}_]/uy;
const IDENT_REST = /[\p{ID_Continue}\-]*/uy;
const NUMBER = /[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const INT = /[0-9]+/y;
const HEREDOC_OPEN = /<<(-?)([\p{ID_Start}_][\p{ID_Continue}\-]*)(\r?\n)/uy;

const PUNCT: Array<[string, TokenType]> = [
  ["...", "Ellipsis"],
  ["=>", "FatArrow"],
  ["==", "EqualOp"],
  ["!=", "NotEqual"],
  ["<=", "LessThanEq"],
  [">=", "GreaterThanEq"],
  ["&&", "And"],
  ["||", "Or"],
  ["::", "DoubleColon"],
  ["{", "OBrace"],
  ["}", "CBrace"],
  ["[", "OBrack"],
  ["]", "CBrack"],
  ["(", "OParen"],
  [")", "CParen"],
  ["*", "Star"],
  ["/", "Slash"],
  ["+", "Plus"],
  ["-", "Minus"],
  ["%", "Percent"],
  ["=", "Equal"],
  ["<", "LessThan"],
  [">", "GreaterThan"],
  ["!", "Bang"],
  [".", "Dot"],
  [",", "Comma"],
  ["?", "Question"],
  [":", "Colon"],
];

/** Punctuation candidates by first character, longest first. */
const PUNCT_BY_CHAR = new Map<string, Array<[string, TokenType]>>();
for (const entry of PUNCT) {
  const list = PUNCT_BY_CHAR.get(entry[0][0]!) ?? [];
  list.push(entry);
  PUNCT_BY_CHAR.set(entry[0][0]!, list);
}

/** Scans a whole config file (starting in expression mode). */
export function lexConfig(src: string): Token[] {
  return new Lexer(src, { kind: "expr", braces: 0, inTemplate: false }).run();
}

/** Scans a bare template (e.g. a JSON string or templatefile content), starting in template mode. */
export function lexTemplate(src: string): Token[] {
  return new Lexer(src, { kind: "heredoc", marker: "", startOfLine: false }, true).run();
}

class Lexer {
  private i = 0;
  private readonly out: Token[] = [];
  private readonly modes: Mode[];

  constructor(
    private readonly src: string,
    initial: Mode,
    /** Bare template: no end marker; the whole input is template text. */
    private readonly bare = false,
  ) {
    this.modes = [initial];
  }

  run(): Token[] {
    while (this.i < this.src.length) {
      const mode = this.modes[this.modes.length - 1]!;
      if (mode.kind === "expr") this.scanExpr(mode);
      else if (mode.kind === "quoted") this.scanQuoted();
      else this.scanHeredoc(mode);
    }
    this.emit("EOF", this.i, this.i);
    return this.out;
  }

  private emit(type: TokenType, start: number, end: number): void {
    this.out.push({ type, start, end, text: this.src.slice(start, end) });
    this.i = end;
  }

  private scanExpr(mode: Extract<Mode, { kind: "expr" }>): void {
    const s = this.src;
    const i = this.i;
    const c = s[i]!;
    if (c === " " || c === "\t") {
      let j = i + 1;
      while (j < s.length && (s[j] === " " || s[j] === "\t")) j++;
      this.i = j;
      return;
    }
    if (c === "\n") return this.emit("Newline", i, i + 1);
    if (c === "\r" && s[i + 1] === "\n") return this.emit("Newline", i, i + 2);
    if (c === "#" || (c === "/" && s[i + 1] === "/")) {
      let j = i;
      while (j < s.length && s[j] !== "\n") j++;
      if (j < s.length) j++; // a line comment absorbs its newline, as in HCL
      return this.emit("Comment", i, j);
    }
    if (c === "/" && s[i + 1] === "*") {
      const end = s.indexOf("*/", i + 2);
      if (end < 0) return this.emit("Invalid", i, s.length);
      return this.emit("Comment", i, end + 2);
    }
    if (c === '"') {
      this.modes.push({ kind: "quoted" });
      return this.emit("OQuote", i, i + 1);
    }
    if (c === "<" && s[i + 1] === "<") {
      HEREDOC_OPEN.lastIndex = i;
      const m = HEREDOC_OPEN.exec(s);
      if (m) {
        this.modes.push({ kind: "heredoc", marker: m[2]!, startOfLine: true });
        return this.emit("OHeredoc", i, i + m[0].length);
      }
    }
    if (c >= "0" && c <= "9") {
      // After a dot only an integer is taken, so `foo.0.1` is two legacy indexes.
      const prev = this.out[this.out.length - 1];
      const re = prev && prev.type === "Dot" && prev.end === i ? INT : NUMBER;
      re.lastIndex = i;
      const m = re.exec(s)!;
      return this.emit("NumberLit", i, i + m[0].length);
    }
    const code = s.charCodeAt(i);
    if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95) {
      // ASCII fast path; fall back to the Unicode pattern when a non-ASCII character follows.
      let j = i + 1;
      for (; j < s.length; j++) {
        const d = s.charCodeAt(j);
        if (!((d >= 97 && d <= 122) || (d >= 65 && d <= 90) || (d >= 48 && d <= 57) || d === 95 || d === 45)) break;
      }
      if (j < s.length && s.charCodeAt(j) >= 0x80) {
        IDENT_REST.lastIndex = j;
        IDENT_REST.exec(s);
        j = IDENT_REST.lastIndex;
      }
      return this.emit("Ident", i, j);
    }
    if (code >= 0x80) {
      IDENT_START.lastIndex = i;
      if (IDENT_START.test(s)) {
        IDENT_REST.lastIndex = IDENT_START.lastIndex;
        IDENT_REST.exec(s);
        return this.emit("Ident", i, IDENT_REST.lastIndex);
      }
    }
    if (mode.inTemplate) {
      if (c === "~" && s[i + 1] === "}" && mode.braces === 0) {
        this.modes.pop();
        return this.emit("TemplateSeqEnd", i, i + 2);
      }
      if (c === "}" && mode.braces === 0) {
        this.modes.pop();
        return this.emit("TemplateSeqEnd", i, i + 1);
      }
    }
    if (c === "$" && s[i + 1] === "{") {
      // Not valid in expression mode; scanned as one token so the parser can report it.
      return this.emit("Invalid", i, i + 2);
    }
    const cands = PUNCT_BY_CHAR.get(c);
    if (cands) {
      for (const [p, t] of cands) {
        if (p.length === 1 || s.startsWith(p, i)) {
          if (t === "OBrace") mode.braces++;
          if (t === "CBrace" && mode.braces > 0) mode.braces--;
          return this.emit(t, i, i + p.length);
        }
      }
    }
    const cp = s.codePointAt(i)!;
    return this.emit("Invalid", i, i + (cp > 0xffff ? 2 : 1));
  }

  /** `${` or `%{` (optionally with `~`) at i: emit and enter expression mode. */
  private templateOpen(i: number): boolean {
    const s = this.src;
    const c = s[i];
    if ((c === "$" || c === "%") && s[i + 1] === "{") {
      const len = s[i + 2] === "~" ? 3 : 2;
      this.modes.push({ kind: "expr", braces: 0, inTemplate: true });
      this.emit(c === "$" ? "TemplateInterp" : "TemplateControl", i, i + len);
      return true;
    }
    return false;
  }

  private scanQuoted(): void {
    const s = this.src;
    const start = this.i;
    let j = start;
    while (j < s.length) {
      const c = s[j]!;
      if (c === '"' || c === "\n" || (c === "\r" && s[j + 1] === "\n")) break;
      if (c === "\\") {
        j += 2;
        continue;
      }
      if ((c === "$" || c === "%") && s[j + 1] === "{") break;
      if ((c === "$" || c === "%") && s[j + 1] === c && s[j + 2] === "{") {
        j += 3; // $${ and %%{ are escapes for literal ${ and %{
        continue;
      }
      j++;
    }
    j = Math.min(j, s.length);
    if (j > start) return this.emit("QuotedLit", start, j);
    const c = s[j];
    if (c === '"') {
      this.modes.pop();
      return this.emit("CQuote", j, j + 1);
    }
    if (c === "\n" || c === "\r") {
      // A newline ends the string with an error; the newline itself is scanned again in expression mode.
      this.modes.pop();
      this.out.push({ type: "QuotedNewline", start: j, end: j + (c === "\r" ? 2 : 1), text: s.slice(j, j + 1) });
      return;
    }
    this.templateOpen(j);
  }

  private scanHeredoc(mode: Extract<Mode, { kind: "heredoc" }>): void {
    const s = this.src;
    const start = this.i;
    if (mode.startOfLine && !this.bare) {
      // Is this line the end marker?
      let eol = s.indexOf("\n", start);
      if (eol < 0) eol = s.length;
      let lineEnd = eol;
      if (lineEnd > start && s[lineEnd - 1] === "\r") lineEnd--;
      if (s.slice(start, lineEnd).trim() === mode.marker) {
        this.modes.pop();
        this.emit("CHeredoc", start, lineEnd);
        if (lineEnd < s.length) this.emit("Newline", lineEnd, eol + 1);
        return;
      }
    }
    let j = start;
    while (j < s.length) {
      const c = s[j]!;
      if (c === "\n") {
        j++;
        break;
      }
      if ((c === "$" || c === "%") && s[j + 1] === "{") break;
      if ((c === "$" || c === "%") && s[j + 1] === c && s[j + 2] === "{") {
        j += 3;
        continue;
      }
      j++;
    }
    if (j > start) {
      mode.startOfLine = s[j - 1] === "\n";
      return this.emit("StringLit", start, j);
    }
    mode.startOfLine = false;
    this.templateOpen(j);
  }
}
