// JSON syntax errors as Packer shows them. The Diagnostic carries the exact line:column; the detail
// reproduces Packer's text byte for byte, including its quirks: Go's offset counts the offending byte
// itself, and Packer's column is one more than the real one on every line but the first (so its caret
// lands under the character there, and one to the left of it on line 1).
import { errorDiag, type Diagnostic } from "../../errors/diagnostic.ts";
import type { JsonSyntaxError } from "./positioned-json.ts";
import { EXCERPT_WIDTH } from "../../ui/diagnostics.ts";
import { utf8Length, type SourceFile } from "../../source/source-file.ts";

export interface PackerErrorLocation {
  line: number;
  column: number;
  /** Go's json.SyntaxError.Offset: bytes read, including the offending one. */
  offset: number;
  excerpt: string;
}

/** Packer's highlightPosition(): line, column and the numbered excerpt with a caret. */
export function packerErrorLocation(text: string, goOffset: number): PackerErrorLocation {
  const bytes = new TextEncoder().encode(text);
  let line = 1;
  let col = 0;
  let lineStart = 0;
  let lastLine = "";
  const decoder = new TextDecoder();
  const n = Math.min(goOffset, bytes.length);
  for (let k = 0; k < n; k++) {
    if (bytes[k] === 0x0a) {
      lastLine = decoder.decode(bytes.subarray(lineStart, k));
      lineStart = k + 1;
      line++;
      col = 1;
    } else col++;
  }
  let thisLine = decoder.decode(bytes.subarray(lineStart, n));
  // Packer prints both lines whole; a minified multi-megabyte line is cut to the text before the caret.
  let caret = col + 5;
  if (thisLine.length > EXCERPT_WIDTH) {
    thisLine = "…" + thisLine.slice(-EXCERPT_WIDTH);
    caret = 5 + 2 + EXCERPT_WIDTH;
  }
  if (lastLine.length > EXCERPT_WIDTH) lastLine = lastLine.slice(0, EXCERPT_WIDTH) + "…";
  let excerpt = "";
  if (line > 1) excerpt += `${String(line - 1).padStart(5)}: ${lastLine}\n`;
  excerpt += `${String(line).padStart(5)}: ${thisLine}\n`;
  excerpt += `${" ".repeat(caret)}^\n`;
  return { line, column: col, offset: goOffset, excerpt };
}

/** Go's offset for an error at a UTF-16 offset: the bytes up to and including the offending one. */
export function goSyntaxOffset(text: string, offset: number): number {
  const before = utf8Length(text, 0, offset);
  return offset >= text.length ? before : before + 1;
}

/** `Error parsing JSON: <go message>` + `At line L, column C (offset O):` + excerpt, positioned exactly. */
export function jsonSyntaxDiagnostic(src: SourceFile, err: JsonSyntaxError): Diagnostic {
  const loc = packerErrorLocation(src.text, goSyntaxOffset(src.text, err.offset));
  const end = Math.min(err.offset + 1, src.text.length);
  return errorDiag(
    `Error parsing JSON: ${err.message}`,
    src.range(err.offset, Math.max(end, err.offset)),
    `At line ${loc.line}, column ${loc.column} (offset ${loc.offset}):\n${loc.excerpt}`,
  );
}
