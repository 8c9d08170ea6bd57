// Renders diagnostics for people: the position as file:line:column, the source line and a caret
// under the offending range, then the detail. Source is read lazily, only when there is an error.
import { readFileSync } from "node:fs";
import type { Diagnostic } from "../errors/diagnostic.ts";
import { terminalSafe } from "./sanitize.ts";

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

export function renderDiagnostic(d: Diagnostic, mask: (s: string) => string = (s) => s): string {
  const head = d.severity === "error" ? "Error" : "Warning";
  const lines = [`${head}: ${d.summary}`];
  if (d.range) {
    const { filename, start, end } = d.range;
    lines.push("", `  on ${filename}:${start.line}:${start.column}:`);
    const src = sourceLines(filename)?.[start.line - 1];
    if (src !== undefined) {
      const gutter = `  ${String(start.line).padStart(4)}: `;
      const width = end.line === start.line ? Math.max(1, end.column - start.column) : 1;
      lines.push(`${gutter}${src}`);
      lines.push(`${" ".repeat(gutter.length + start.column - 1)}${"^".repeat(Math.min(width, 80))}`);
    }
  }
  if (d.detail) lines.push("", d.detail);
  return mask(terminalSafe(lines.join("\n"))) + "\n";
}
