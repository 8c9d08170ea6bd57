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
    return { line: lo + 1, column: codePoints(this.text, lineStart, off) + 1, byte: utf8Length(this.text, 0, off) };
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
