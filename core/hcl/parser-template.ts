// Templates of the native syntax (HCL's parser_template.go): quoted strings, heredocs and bare
// templates become template nodes. The literal chunks, `${ }` interpolations and `%{ }` directives
// are read into a flat piece list, `~` strip markers and `<<-` indentation are applied to it, and
// the if/for directives are then nested into templateIf / templateFor nodes.
import type { SourceRange } from "../errors/diagnostic.ts";
import type { Node } from "./ast.ts";
import type { Token } from "./lexer.ts";
import type { Parser } from "./parser.ts";
import { unionRange } from "../source/source-file.ts";
import { V } from "./value.ts";

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

export function parseTemplateExpr(p: Parser): Node {
  const open = p.read();
  const heredoc = open.type === "OHeredoc";
  const flush = heredoc && open.text.startsWith("<<-");
  const toks: Token[] = [];
  let close: Token;
  // Nested templates inside ${ } have their own delimiters: only stop at depth 0.
  let depth = 0;
  for (;;) {
    const t = p.peekRaw();
    if (t.type === "TemplateInterp" || t.type === "TemplateControl") depth++;
    else if (t.type === "TemplateSeqEnd" && depth > 0) depth--;
    if (depth === 0 && ((!heredoc && t.type === "CQuote") || (heredoc && t.type === "CHeredoc"))) {
      close = p.readRaw();
      break;
    }
    if (t.type === "EOF" || t.type === "QuotedNewline") {
      if (!p.recovery) {
        if (t.type === "QuotedNewline") {
          p.err(
            "Invalid multi-line string",
            p.range(t),
            'Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the "heredoc" multi-line template syntax.',
          );
        } else if (heredoc) {
          p.err("Unterminated template string", p.range(open), `No closing marker was found for the string.`);
        } else {
          p.err("Unterminated template string", p.range(open), "No closing quote was found for the string.");
        }
      }
      p.recovery = true;
      if (t.type === "QuotedNewline") p.readRaw();
      close = t;
      break;
    }
    toks.push(p.readRaw());
  }
  const range = unionRange(p.range(open), p.range(close));
  return parseTemplateTokens(p, toks, range, !heredoc, flush, close);
}

/** Builds a template node from the tokens between the delimiters. */
export function parseTemplateTokens(p: Parser, toks: Token[], range: SourceRange, quoted: boolean, flush: boolean, endTok: Token): Node {
  const pieces: TemplatePiece[] = [];
  let lineStart = true;
  let i = 0;
  // The sequences are parsed by a parser over just these tokens, ending where the template ends.
  const sub = p.sub([...toks, { ...endTok, type: "EOF" }]);
  while (i < toks.length) {
    const t = toks[i]!;
    if (t.type === "QuotedLit" || t.type === "StringLit") {
      pieces.push({ kind: "lit", val: unescapeTemplateLiteral(p, t, quoted), range: p.range(t), lineStart });
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
        const [end, stripAfter] = expectSeqEnd(sub);
        pieces.push({ kind: "interp", expr, range: unionRange(p.range(t), end), stripBefore, stripAfter });
      } else {
        const kw = sub.peek();
        const piece = parseDirective(sub, kw, p.range(t), stripBefore);
        if (piece) pieces.push(piece);
      }
      sub.popNewlines();
      i = sub.idx;
      continue;
    }
    // Anything else inside a template is a scanner-level problem.
    if (!sub.recovery) sub.err("Invalid template", p.range(t), "Unexpected token in template.");
    sub.recovery = true;
    i++;
  }
  p.diags.push(...sub.diags);
  if (sub.recovery) p.recovery = true;
  // HCL strips around ~ markers while reading the parts, before the <<- indentation pass.
  applyStrip(pieces);
  if (flush) flushHeredoc(pieces);
  const built = buildTemplate(p, pieces, 0, range, []);
  const parts = built.parts;
  if (parts.length === 1 && parts[0]!.kind !== "literal" && parts[0]!.kind !== "templateIf" && parts[0]!.kind !== "templateFor") {
    return { kind: "templateWrap", wrapped: parts[0]!, range };
  }
  return { kind: "template", parts, range, heredoc: !quoted };
}

/** Reads `}` or `~}` closing a template sequence; returns its range and whether it strips. */
function expectSeqEnd(p: Parser): [SourceRange, boolean] {
  const end = p.expectClose(
    "TemplateSeqEnd",
    "Extra characters after interpolation expression",
    "Expected a closing brace to end the interpolation expression, but found extra characters.",
  );
  return [p.range(end), end.text.startsWith("~")];
}

function parseDirective(p: Parser, kw: Token, openRange: SourceRange, stripBefore: boolean): TemplatePiece | undefined {
  const word = kw.type === "Ident" ? kw.text : "";
  if (word === "if") {
    p.read();
    const cond = p.parseExpression();
    const [end, stripAfter] = expectSeqEnd(p);
    return { kind: "if", cond, range: unionRange(openRange, end), stripBefore, stripAfter };
  }
  if (word === "else" || word === "endif" || word === "endfor") {
    p.read();
    const [end, stripAfter] = expectSeqEnd(p);
    return { kind: word, range: unionRange(openRange, end), stripBefore, stripAfter };
  }
  if (word === "for") {
    p.read();
    const names = p.parseForNames("directive");
    if ("summary" in names) {
      if (!p.recovery) p.err(names.summary, names.range, names.detail);
      p.recover("TemplateSeqEnd");
      return undefined;
    }
    const { keyVar, valVar } = names;
    const coll = p.parseExpression();
    const [end, stripAfter] = expectSeqEnd(p);
    return { kind: "for", keyVar, valVar, coll, range: unionRange(openRange, end), stripBefore, stripAfter };
  }
  if (!p.recovery) {
    p.err("Invalid template directive", p.range(kw), 'A template directive keyword ("if", "for", etc) is expected at the beginning of a %{ sequence.');
  }
  p.recover("TemplateSeqEnd");
  return undefined;
}

/**
 * Turns the flat piece list into nodes, nesting if/for bodies. Returns the parts and the index
 * of the piece that ended this level (else/endif/endfor) or pieces.length.
 */
function buildTemplate(
  p: Parser,
  pieces: TemplatePiece[],
  from: number,
  range: SourceRange,
  stops: Array<"else" | "endif" | "endfor">,
): { parts: Node[]; next: number; stop?: TemplatePiece } {
  const parts: Node[] = [];
  let i = from;
  while (i < pieces.length) {
    const piece = pieces[i]!;
    switch (piece.kind) {
      case "lit":
        if (piece.val !== "") parts.push({ kind: "literal", value: V.string(piece.val), range: piece.range });
        i++;
        break;
      case "interp":
        parts.push(piece.expr);
        i++;
        break;
      case "if": {
        const t = buildTemplate(p, pieces, i + 1, range, ["else", "endif"]);
        let f: { parts: Node[]; next: number; stop?: TemplatePiece } | undefined;
        let endPiece = t.stop;
        let next = t.next;
        if (t.stop?.kind === "else") {
          f = buildTemplate(p, pieces, t.next + 1, range, ["endif"]);
          endPiece = f.stop;
          next = f.next;
        }
        if (!endPiece || endPiece.kind !== "endif") {
          if (!p.recovery) p.err("Unterminated template directive", piece.range, "There is no corresponding %{ endif } directive for this %{ if }.");
          p.recovery = true;
        }
        const endRange = endPiece?.range ?? piece.range;
        parts.push({
          kind: "templateIf",
          cond: piece.cond,
          trueT: { kind: "template", parts: t.parts, range: piece.range, heredoc: false },
          falseT: f ? { kind: "template", parts: f.parts, range: piece.range, heredoc: false } : undefined,
          range: unionRange(piece.range, endRange),
        });
        i = next + 1;
        break;
      }
      case "for": {
        const b = buildTemplate(p, pieces, i + 1, range, ["endfor"]);
        if (!b.stop || b.stop.kind !== "endfor") {
          if (!p.recovery) p.err("Unterminated template directive", piece.range, "There is no corresponding %{ endfor } directive for this %{ for }.");
          p.recovery = true;
        }
        parts.push({
          kind: "templateFor",
          keyVar: piece.keyVar,
          valVar: piece.valVar,
          collection: piece.coll,
          body: { kind: "template", parts: b.parts, range: piece.range, heredoc: false },
          range: unionRange(piece.range, b.stop?.range ?? piece.range),
        });
        i = b.next + 1;
        break;
      }
      default: {
        if ((stops as string[]).includes(piece.kind)) return { parts, next: i, stop: piece };
        if (!p.recovery) {
          const opener = piece.kind === "endfor" ? "for" : "if";
          p.err(`Unexpected ${piece.kind} directive`, piece.range, `The ${piece.kind} directive has no corresponding %{ ${opener} }.`);
        }
        p.recovery = true;
        i++;
      }
    }
  }
  return { parts, next: pieces.length };
}

/** Decodes a literal template chunk: escapes (quoted only), $${ and %%{, then NFC. */
export function unescapeTemplateLiteral(p: Parser, t: Token, quoted: boolean): string {
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
      p.err("Invalid escape sequence", p.file.range(t.start + i, t.start + Math.min(s.length, i + 2 + len)), `The \\${e} escape sequence requires ${len} hexadecimal digits.`);
      i += 1;
      continue;
    }
    p.err(
      "Invalid escape sequence",
      p.file.range(t.start + i, t.start + i + (e === undefined ? 1 : 2)),
      `The symbol ${JSON.stringify(e ?? "")} is not a valid escape sequence selector.`,
    );
    if (e !== undefined) {
      out += e;
      i++;
    }
  }
  return out.normalize("NFC");
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
