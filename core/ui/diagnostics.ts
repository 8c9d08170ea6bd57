// Renders diagnostics for people: the position as file:line:column, the source line and a caret
// under the offending range, then the detail. Source is read lazily, only when there is an error.
// Output is bounded whatever the input: a long line is shown as a window around the column (as
// HCL's printer does), and only the first MAX_PRINTED diagnostics are printed, then a count of the rest.
import { readFileSync } from "node:fs";
import type { Diagnostic } from "../errors/diagnostic.ts";
import { noForgedHeadlines, terminalSafe } from "./sanitize.ts";

/** Characters of a source line shown around the column. */
export const EXCERPT_WIDTH = 100;
/** Characters of one line of a summary or detail (which may quote a whole template value). */
export const MAX_LINE = 400;
/** Diagnostics printed in full; the rest are counted. */
export const MAX_PRINTED = 30;

const sources = new Map<string, string[] | null>();

function sourceLines(filename: string): string[] | null {
  if (!sources.has(filename)) {
    try {
      sources.set(filename, readFileSync(filename, "utf8").split(/\r?\n/));
    } catch {
      sources.set(filename, null);
    }
  }
  return sources.get(filename) ?? null;
}

/** UTF-16 index of 1-based code-point column `column` in `line` (its length when past the end). */
function indexOfColumn(line: string, column: number): number {
  let i = 0;
  for (let c = 1; c < column && i < line.length; c++) {
    const code = line.charCodeAt(i);
    i += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return i;
}

/**
 * At most EXCERPT_WIDTH characters of `line` around the 1-based column, with "…" where text was
 * cut, and the 0-based offset of the column within what is returned.
 */
export function excerptWindow(line: string, column: number): { text: string; caret: number } {
  const at = indexOfColumn(line, column);
  if (line.length <= EXCERPT_WIDTH) return { text: line, caret: Array.from(line.slice(0, at)).length };
  const from = Math.max(0, Math.min(at - Math.floor(EXCERPT_WIDTH / 3), line.length - EXCERPT_WIDTH));
  const to = Math.min(line.length, from + EXCERPT_WIDTH);
  const head = from > 0 ? "…" : "";
  const tail = to < line.length ? "…" : "";
  return { text: head + line.slice(from, to) + tail, caret: head.length + Array.from(line.slice(from, at)).length };
}

/** Each line of `text` cut to MAX_LINE characters, saying how many were left out. */
function capLines(text: string): string {
  if (text.length <= MAX_LINE) return text;
  return text
    .split("\n")
    .map((l) => (l.length <= MAX_LINE ? l : `${l.slice(0, MAX_LINE)}… (${l.length - MAX_LINE} more characters)`))
    .join("\n");
}

export function renderDiagnostic(d: Diagnostic, mask: (s: string) => string = (s) => s): string {
  const head = d.severity === "error" ? "Error" : "Warning";
  const lines = [`${head}: ${capLines(d.summary)}`];
  if (d.range) {
    const { filename, start, end } = d.range;
    lines.push("", `  on ${filename}:${start.line}:${start.column}:`);
    const src = sourceLines(filename)?.[start.line - 1];
    if (src !== undefined) {
      const gutter = `  ${String(start.line).padStart(4)}: `;
      const { text, caret } = excerptWindow(src, start.column);
      const width = end.line === start.line ? Math.max(1, end.column - start.column) : 1;
      lines.push(`${gutter}${text}`);
      lines.push(`${" ".repeat(gutter.length + caret)}${"^".repeat(Math.max(1, Math.min(width, text.length - caret, 80)))}`);
    }
  }
  if (d.detail) lines.push("", capLines(d.detail));
  // A summary or detail can be a plugin's words (a prepare warning): it may span lines, but none of
  // them may pass for one of imgb's own (`==> Builds finished.`).
  return mask(noForgedHeadlines(terminalSafe(lines.join("\n")))) + "\n";
}

/** Every diagnostic up to MAX_PRINTED, each followed by a blank line, then how many were not shown. */
export function renderDiagnostics(diags: readonly Diagnostic[], mask: (s: string) => string = (s) => s): string {
  const shown = diags.slice(0, MAX_PRINTED).map((d) => renderDiagnostic(d, mask) + "\n");
  const rest = diags.length - shown.length;
  if (rest > 0) {
    const errors = diags.slice(MAX_PRINTED).filter((d) => d.severity === "error").length;
    const warnings = rest - errors;
    const kinds = [errors ? `${errors} more error${errors === 1 ? "" : "s"}` : "", warnings ? `${warnings} more warning${warnings === 1 ? "" : "s"}` : ""].filter(Boolean);
    shown.push(`… and ${kinds.join(" and ")} not shown.\n`);
  }
  return shown.join("");
}
