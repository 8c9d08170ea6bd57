// Canonical formatting in the style of hclwrite (what `packer fmt` uses): the formatter works on
// the token stream and only changes the whitespace between tokens — indentation by bracket
// nesting (2 spaces), spacing rules between tokens, and vertical alignment of `=` and trailing
// comments across consecutive lines.
import { DiagnosticsError, hasErrors } from "../errors/diagnostic.ts";
import type { Diagnostic } from "../errors/diagnostic.ts";
import { lexConfig, type TokenType } from "./lexer.ts";
import { parseConfigNode } from "./parser.ts";

/** A token with the number of spaces to print before it. */
export interface FmtToken {
  type: TokenType | "Nil";
  text: string;
  spacesBefore: number;
}

const NIL: FmtToken = { type: "Nil", text: "", spacesBefore: 0 };

interface Line {
  lead: FmtToken[];
  assign?: FmtToken[];
  comment?: FmtToken[];
}

/** Formats native-syntax source; throws DiagnosticsError when the source does not parse. */
export function formatHcl(src: string, filename: string): string {
  const r = checkAndFormat(src, filename);
  if (hasErrors(r.diagnostics)) throw new DiagnosticsError(r.diagnostics);
  return r.text;
}

/**
 * hclwrite.Format: lays the tokens out without parsing, so text with syntax errors is formatted too
 * (Packer's hcl2_upgrade formats its output this way).
 */
export function formatTokensOf(src: string): string {
  return formatTokens(tokensOf(src));
}

/** Formats and returns parse diagnostics instead of throwing (text is the input when they are errors). */
export function checkAndFormat(src: string, filename: string): { text: string; diagnostics: Diagnostic[] } {
  const { diagnostics } = parseConfigNode(src, filename);
  if (hasErrors(diagnostics)) return { text: src, diagnostics };
  return { text: formatTokens(tokensOf(src)), diagnostics };
}

/** Source → tokens with the spacing found in the source (tabs count as single spaces). */
export function tokensOf(src: string): FmtToken[] {
  const toks = lexConfig(src);
  let last = 0;
  return toks.map((t) => {
    const ft: FmtToken = { type: t.type, text: t.text, spacesBefore: t.start - last };
    last = t.end;
    return ft;
  });
}

export function formatTokens(tokens: FmtToken[]): string {
  const lines = linesForFormat(tokens);
  formatIndent(lines);
  formatSpaces(lines);
  formatCells(lines);
  let out = "";
  for (const t of tokens) {
    if (t.type === "EOF") break;
    out += " ".repeat(t.spacesBefore) + t.text;
  }
  return out;
}

function isNewline(t: FmtToken): boolean {
  return t.type === "Newline" || (t.type === "Comment" && t.text.endsWith("\n"));
}

function bracketChange(t: FmtToken): number {
  switch (t.type) {
    case "OBrace":
    case "OBrack":
    case "OParen":
    case "TemplateControl":
    case "TemplateInterp":
      return 1;
    case "CBrace":
    case "CBrack":
    case "CParen":
    case "TemplateSeqEnd":
      return -1;
    default:
      return 0;
  }
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Width of a cell in columns (grapheme clusters), as hclwrite measures for alignment. */
function columns(ts: FmtToken[] | undefined): number {
  let n = 0;
  for (const t of ts ?? []) {
    n += t.spacesBefore;
    if (/^[\x00-\x7f]*$/.test(t.text)) n += t.text.length;
    else for (const _ of graphemes.segment(t.text)) n++;
  }
  return n;
}

function linesForFormat(tokens: FmtToken[]): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === "EOF") {
      lines.push({ lead: tokens.slice(start, i) });
      start = -1;
      break;
    }
    if (isNewline(t)) {
      lines.push({ lead: tokens.slice(start, i + 1) });
      start = i + 1;
    }
  }
  if (start >= 0 && start < tokens.length) lines.push({ lead: tokens.slice(start) });
  for (const line of lines) {
    if (line.lead.length === 0) continue;
    const lastTok = line.lead[line.lead.length - 1]!;
    if (line.lead.length > 1 && lastTok.type === "Comment") {
      line.comment = [lastTok];
      line.lead = line.lead.slice(0, -1);
    }
    for (let i = 1; i < line.lead.length; i++) {
      if (line.lead[i]!.type !== "Equal") continue;
      // Only a complete expression on this line is an alignable assignment.
      let net = 0;
      for (const t of line.lead.slice(i)) net += bracketChange(t);
      if (net === 0) {
        line.assign = line.lead.slice(i);
        line.lead = line.lead.slice(0, i);
      }
      break;
    }
  }
  return lines;
}

function formatIndent(lines: Line[]): void {
  const indents: number[] = [];
  for (const line of lines) {
    const first = line.lead[0];
    if (!first) continue;
    if (first.type === "Newline") {
      first.spacesBefore = 0;
      continue;
    }
    let net = 0;
    for (const t of line.lead) {
      net += bracketChange(t);
      if (t.type === "OHeredoc") break;
    }
    for (const t of line.assign ?? []) net += bracketChange(t);
    if (net > 0) {
      first.spacesBefore = 2 * indents.length;
      indents.push(net);
    } else if (net < 0) {
      let closed = -net;
      while (closed > 0 && indents.length > 0) {
        const top = indents[indents.length - 1]!;
        if (closed > top) {
          closed -= top;
          indents.pop();
        } else if (closed < top) {
          indents[indents.length - 1] = top - closed;
          closed = 0;
        } else {
          indents.pop();
          closed = 0;
        }
      }
      first.spacesBefore = 2 * indents.length;
    } else {
      first.spacesBefore = 2 * indents.length;
    }
  }
}

function formatSpaces(lines: Line[]): void {
  for (const line of lines) {
    for (const cell of [line.lead, line.assign]) {
      if (!cell) continue;
      if (cell === line.assign && cell[0]) cell[0].spacesBefore = 1;
      for (let i = 0; i < cell.length; i++) {
        const before = i > 0 ? cell[i - 1]! : NIL;
        const after = i < cell.length - 1 ? cell[i + 1]! : NIL;
        const space = spaceAfter(cell[i]!, before, after);
        if (after !== NIL) after.spacesBefore = space ? 1 : 0;
      }
    }
  }
}

function formatCells(lines: Line[]): void {
  const align = (cell: "assign" | "comment", width: (l: Line) => number) => {
    let chainStart = -1;
    let max = 0;
    const close = (end: number) => {
      for (const l of lines.slice(chainStart, end)) l[cell]![0]!.spacesBefore = max - width(l) + 1;
      chainStart = -1;
      max = 0;
    };
    lines.forEach((l, i) => {
      if (!l[cell]) {
        if (chainStart !== -1) close(i);
      } else {
        if (chainStart === -1) chainStart = i;
        max = Math.max(max, width(l));
      }
    });
    if (chainStart !== -1) close(lines.length);
  };
  align("assign", (l) => columns(l.lead));
  align("comment", (l) => columns(l.lead) + columns(l.assign));
}

const NEGATION_CONTEXT: ReadonlySet<string> = new Set([
  "Nil",
  "OParen",
  "OBrace",
  "OBrack",
  "Equal",
  "Colon",
  "Comma",
  "Question",
  "Plus",
  "Star",
  "Slash",
  "Percent",
  "Minus",
  "EqualOp",
  "NotEqual",
  "GreaterThan",
  "GreaterThanEq",
  "LessThan",
  "LessThanEq",
  "And",
  "Or",
  "Bang",
]);

function spaceAfter(subject: FmtToken, before: FmtToken, after: FmtToken): boolean {
  const s = subject.type;
  const a = after.type;
  if (a === "Newline" || a === "Nil") return false;
  if (s === "Ident" && a === "OParen") return false;
  if ((s === "Ident" && a === "DoubleColon") || (s === "DoubleColon" && a === "Ident")) return false;
  if (s === "Dot" || a === "Dot") return false;
  if (a === "Comma" || a === "Ellipsis") return false;
  if (s === "Comma") return true;
  if (
    s === "QuotedLit" ||
    s === "StringLit" ||
    s === "OQuote" ||
    s === "OHeredoc" ||
    a === "QuotedLit" ||
    a === "StringLit" ||
    a === "CQuote" ||
    a === "CHeredoc"
  ) {
    return false;
  }
  if (s === "Ident" && subject.text === "in" && before.type === "Ident") return true;
  if (a === "OBrack" && (s === "Ident" || s === "NumberLit" || bracketChange(subject) < 0)) return false;
  if (s === "Bang") return false;
  if (s === "Minus") return !NEGATION_CONTEXT.has(before.type);
  if (s === "OBrace" || a === "CBrace") return !(s === "OBrace" && a === "CBrace");
  if ((s === "TemplateInterp" || s === "TemplateControl") && a === "OBrace") return true;
  if (s === "CBrace" && a === "TemplateSeqEnd") return true;
  if (s === "TemplateSeqEnd" && (a === "TemplateInterp" || a === "TemplateControl")) return false;
  if (bracketChange(subject) > 0) return false;
  if (bracketChange(after) < 0) return false;
  return true;
}
