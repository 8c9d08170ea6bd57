// The lexer of Go's text/template, as Packer uses it: `{{ }}` actions with `{{-`/`-}}` trim markers,
// `/* */` comments, identifiers, `.Field` chains, `$variables`, "quoted" and `raw` strings, 'c'
// characters and numbers. Messages follow Go's wording.
import { TemplateError } from "./errors.ts";

export type TokenType =
  | "text"
  | "leftDelim"
  | "rightDelim"
  | "identifier"
  | "keyword"
  | "field"
  | "dot"
  | "variable"
  | "string"
  | "rawString"
  | "char"
  | "number"
  | "bool"
  | "nil"
  | "pipe"
  | "leftParen"
  | "rightParen"
  | "declare"
  | "assign"
  | "comma"
  | "space"
  | "eof";

export interface Token {
  type: TokenType;
  /** Source text of the token (text tokens: already trimmed by trim markers). */
  val: string;
  /** UTF-16 offset in the template. */
  pos: number;
}

export const KEYWORDS = new Set(["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"]);

const LEFT = "{{";
const RIGHT = "}}";
const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string | undefined) => c !== undefined && (c === "_" || /[\p{L}\p{Nd}]/u.test(c));
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  // Set when the previous action ended with `-}}`: leading whitespace of the next text goes.
  let trimNext = false;

  while (i <= input.length) {
    // Text up to the next left delimiter.
    let next = input.indexOf(LEFT, i);
    if (next === -1) next = input.length;
    let textStart = i;
    let textEnd = next;
    if (trimNext) {
      while (textStart < textEnd && isSpace(input[textStart])) textStart++;
      trimNext = false;
    }
    const trimLeft = next < input.length && input[next + 2] === "-" && isSpace(input[next + 3]);
    if (trimLeft) while (textEnd > textStart && isSpace(input[textEnd - 1])) textEnd--;
    if (textEnd > textStart) tokens.push({ type: "text", val: input.slice(textStart, textEnd), pos: textStart });
    if (next >= input.length) break;

    // An action.
    tokens.push({ type: "leftDelim", val: LEFT, pos: next });
    i = next + 2 + (trimLeft ? 2 : 0);

    // A comment must fill the whole action.
    if (input.startsWith("/*", i)) {
      const close = input.indexOf("*/", i + 2);
      if (close === -1) throw new TemplateError("unclosed comment", next, 2);
      i = close + 2;
      const trimRight = isSpace(input[i]) && input[i + 1] === "-" && input.startsWith(RIGHT, i + 2);
      if (trimRight) i += 2;
      if (!input.startsWith(RIGHT, i)) throw new TemplateError("comment ends before closing delimiter", close, 2);
      i += 2;
      tokens.pop(); // a comment produces no tokens
      trimNext = trimRight;
      continue;
    }

    let parenDepth = 0;
    for (;;) {
      // Right delimiter, possibly with a trim marker.
      if (isSpace(input[i]) && input[i + 1] === "-" && input.startsWith(RIGHT, i + 2)) {
        tokens.push({ type: "rightDelim", val: RIGHT, pos: i + 2 });
        i += 4;
        trimNext = true;
        break;
      }
      if (input.startsWith(RIGHT, i)) {
        if (parenDepth > 0) throw new TemplateError("unclosed left paren", i, 2);
        tokens.push({ type: "rightDelim", val: RIGHT, pos: i });
        i += 2;
        break;
      }
      if (i >= input.length) throw new TemplateError("unclosed action", next, 2);
      const c = input[i] as string;
      const start = i;
      if (isSpace(c)) {
        while (isSpace(input[i]) && !(input[i + 1] === "-" && input.startsWith(RIGHT, i + 2))) i++;
        if (i === start) i++; // the space before ` -}}` is handled by the check above on the next turn
        else tokens.push({ type: "space", val: input.slice(start, i), pos: start });
        continue;
      }
      if (c === "=") {
        tokens.push({ type: "assign", val: "=", pos: i++ });
        continue;
      }
      if (c === ":") {
        if (input[i + 1] !== "=") throw new TemplateError("expected :=", i);
        tokens.push({ type: "declare", val: ":=", pos: i });
        i += 2;
        continue;
      }
      if (c === "|") {
        tokens.push({ type: "pipe", val: "|", pos: i++ });
        continue;
      }
      if (c === ",") {
        tokens.push({ type: "comma", val: ",", pos: i++ });
        continue;
      }
      if (c === "(") {
        parenDepth++;
        tokens.push({ type: "leftParen", val: "(", pos: i++ });
        continue;
      }
      if (c === ")") {
        parenDepth--;
        if (parenDepth < 0) throw new TemplateError("unexpected right paren", i);
        tokens.push({ type: "rightParen", val: ")", pos: i++ });
        continue;
      }
      if (c === '"') {
        i = endOfQuoted(input, start, "unterminated quoted string");
        tokens.push({ type: "string", val: input.slice(start, i), pos: start });
        continue;
      }
      if (c === "`") {
        const close = input.indexOf("`", i + 1);
        if (close === -1) throw new TemplateError("unterminated raw quoted string", start);
        i = close + 1;
        tokens.push({ type: "rawString", val: input.slice(start, i), pos: start });
        continue;
      }
      if (c === "'") {
        i = endOfQuoted(input, start, "unterminated character constant");
        tokens.push({ type: "char", val: input.slice(start, i), pos: start });
        continue;
      }
      if (c === "$") {
        i++;
        while (isAlnum(input[i])) i++;
        tokens.push({ type: "variable", val: input.slice(start, i), pos: start });
        continue;
      }
      if (c === "." && !isDigit(input[i + 1])) {
        i++;
        if (!isAlnum(input[i])) {
          tokens.push({ type: "dot", val: ".", pos: start });
          continue;
        }
        while (isAlnum(input[i])) i++;
        tokens.push({ type: "field", val: input.slice(start, i), pos: start });
        continue;
      }
      if (isDigit(c) || c === "." || ((c === "-" || c === "+") && (isDigit(input[i + 1]) || input[i + 1] === "."))) {
        i++;
        while (/[0-9a-zA-Z_.+\-]/.test(input[i] ?? "")) {
          // A sign only continues a number right after an exponent marker.
          const d = input[i] as string;
          if ((d === "+" || d === "-") && !/[eEpP]/.test(input[i - 1] ?? "")) break;
          i++;
        }
        tokens.push({ type: "number", val: input.slice(start, i), pos: start });
        continue;
      }
      if (isAlnum(c)) {
        while (isAlnum(input[i])) i++;
        const word = input.slice(start, i);
        const after = input[i];
        if (after !== undefined && !isSpace(after) && !".,|:)(=}".includes(after)) {
          throw new TemplateError(`bad character ${goRune(after)}`, i);
        }
        const type: TokenType = KEYWORDS.has(word)
          ? "keyword"
          : word === "true" || word === "false"
            ? "bool"
            : word === "nil"
              ? "nil"
              : "identifier";
        tokens.push({ type, val: word, pos: start });
        continue;
      }
      throw new TemplateError(`unrecognized character in action: ${goRune(c)}`, i);
    }
  }
  tokens.push({ type: "eof", val: "", pos: input.length });
  return tokens;
}

/** Go's %#U: U+0023 '#'. */
function goRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${c}'`;
}

/**
 * The end (past the closing quote) of the "string" or 'character' literal starting at `start`, whose
 * first character is the quote; backslash escapes are skipped. It must close on the same line.
 */
function endOfQuoted(input: string, start: number, unterminated: string): number {
  const quote = input[start];
  let i = start + 1;
  for (;;) {
    const d = input[i];
    if (d === "\\") {
      i += 2;
      continue;
    }
    if (d === undefined || d === "\n") throw new TemplateError(unterminated, start);
    i++;
    if (d === quote) return i;
  }
}
