// Maps UTF-16 string offsets (what JS gives us) to HCL source positions: 1-based line, 1-based
// column counting one per character (a tab is one column), 0-based UTF-8 byte offset.
import type { Pos, SourceRange } from "../errors/diagnostic.ts";

export class SourceFile {
  private readonly bytes: Int32Array;
  private readonly lines: Int32Array;
  private readonly cols: Int32Array;

  constructor(
    readonly filename: string,
    readonly text: string,
    /** Position of text[0] when the text is a fragment of a larger file (e.g. a JSON string). */
    base: Pos = { line: 1, column: 1, byte: 0 },
  ) {
    const n = text.length;
    this.bytes = new Int32Array(n + 1);
    this.lines = new Int32Array(n + 1);
    this.cols = new Int32Array(n + 1);
    let byte = base.byte;
    let line = base.line;
    let col = base.column;
    let afterZwj = false;
    for (let i = 0; i < n; i++) {
      this.bytes[i] = byte;
      this.lines[i] = line;
      this.cols[i] = col;
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          // Astral code point: 4 bytes, one column; the low surrogate shares the position.
          i++;
          this.bytes[i] = byte;
          this.lines[i] = line;
          this.cols[i] = col;
          byte += 4;
          const cp = text.codePointAt(i - 1)!;
          if (!afterZwj && !isCombining(cp)) col++;
          afterZwj = false;
          continue;
        }
      }
      byte += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      if (c === 0x0a) {
        line++;
        col = 1;
      } else if (!afterZwj && !isCombining(c)) col++;
      afterZwj = c === 0x200d;
    }
    this.bytes[n] = byte;
    this.lines[n] = line;
    this.cols[n] = col;
  }

  pos(index: number): Pos {
    const i = Math.max(0, Math.min(index, this.text.length));
    return { line: this.lines[i]!, column: this.cols[i]!, byte: this.bytes[i]! };
  }

  range(start: number, end: number): SourceRange {
    return { filename: this.filename, start: this.pos(start), end: this.pos(end) };
  }
}

/**
 * HCL counts columns in grapheme clusters; combining marks, variation selectors and zero-width
 * joiners do not start a new cluster, so they do not advance the column.
 */
function isCombining(cp: number): boolean {
  if (cp < 0x300) return false;
  return (
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xfe20 && cp <= 0xfe2f) ||
    cp === 0x200d ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  );
}

/** A range covering both ranges (they must be in the same file). */
export function unionRange(a: SourceRange, b: SourceRange): SourceRange {
  const start = a.start.byte <= b.start.byte ? a.start : b.start;
  const end = a.end.byte >= b.end.byte ? a.end : b.end;
  return { filename: a.filename, start, end };
}

export function emptyRange(filename: string): SourceRange {
  const p = { line: 1, column: 1, byte: 0 };
  return { filename, start: p, end: p };
}
