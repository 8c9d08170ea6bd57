// A source text with lazy position lookup. Parsers record plain UTF-16 offsets; a Pos (line, column in
// characters, UTF-8 byte) is only computed when a diagnostic or a spec range needs one, so loading a
// large template does not pay for positions nobody looks at.
import type { Pos, SourceRange } from "../../errors/diagnostic.ts";

export class SourceFile {
  readonly filename: string;
  readonly text: string;
  /** UTF-16 offset of the first character of each line. */
  private readonly lineStarts: number[];
  private readonly ascii: boolean;

  constructor(filename: string, text: string) {
    this.filename = filename;
    this.text = text;
    const starts = [0];
    let i = text.indexOf("\n");
    while (i !== -1) {
      starts.push(i + 1);
      i = text.indexOf("\n", i + 1);
    }
    this.lineStarts = starts;
    // eslint-disable-next-line no-control-regex
    this.ascii = !/[^\x00-\x7f]/.test(text);
  }

  /** Position of a UTF-16 offset (clamped to the text). */
  pos(offset: number): Pos {
    const off = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= off) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = this.lineStarts[lo] ?? 0;
    if (this.ascii) return { line: lo + 1, column: off - lineStart + 1, byte: off };
    // Counting from the previous position when it is earlier on the same line (diagnostics come in
    // source order), and from the line's start otherwise, keeps thousands of positions linear.
    const c = this.cursor;
    let base: { off: number; column: number; byte: number };
    if (c && c.line === lo && c.off <= off) base = c;
    else base = { off: lineStart, column: 1, byte: this.lineByte(lo) };
    const column = base.column + codePoints(this.text, base.off, off);
    const byte = base.byte + utf8Length(this.text, base.off, off);
    this.cursor = { line: lo, off, column, byte };
    return { line: lo + 1, column, byte };
  }

  private cursor: { line: number; off: number; column: number; byte: number } | undefined;
  private lineBytes: number[] | undefined;

  /** UTF-8 byte offset of the start of 0-based line `line` (all lines computed once, when first needed). */
  private lineByte(line: number): number {
    if (!this.lineBytes) {
      const out = [0];
      for (let k = 1; k < this.lineStarts.length; k++) {
        out.push((out[k - 1] ?? 0) + utf8Length(this.text, this.lineStarts[k - 1] ?? 0, this.lineStarts[k] ?? 0));
      }
      this.lineBytes = out;
    }
    return this.lineBytes[line] ?? 0;
  }

  range(start: number, end: number): SourceRange {
    return { filename: this.filename, start: this.pos(start), end: this.pos(end) };
  }
}

function codePoints(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) i++;
    n++;
  }
  return n;
}

/** UTF-8 length of s[from, to) — the byte offset convention of Diagnostic positions. */
export function utf8Length(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
