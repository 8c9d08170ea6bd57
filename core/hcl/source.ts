// Maps UTF-16 string offsets (what JS gives us) to HCL source positions: 1-based line, 1-based
// column counting grapheme clusters (a tab is one column), 0-based UTF-8 byte offset.
import type { Pos, SourceRange } from "../errors/diagnostic.ts";

export class SourceFile {
  /** UTF-16 index where each line starts. */
  private readonly lineStarts: number[] = [0];
  /** UTF-8 byte offset of each line start (relative to the base). */
  private readonly lineBytes: number[] = [0];
  private readonly ascii: boolean;
  private table: { cols: Int32Array; bytes: Int32Array } | undefined;
  private lastLine = 0;

  constructor(
    readonly filename: string,
    readonly text: string,
    /** Position of text[0] when the text is a fragment of a larger file (e.g. a JSON string). */
    private readonly base: Pos = { line: 1, column: 1, byte: 0 },
  ) {
    this.ascii = !/[^\x00-\x7f]/.test(text);
    let from = 0;
    for (;;) {
      const nl = text.indexOf("\n", from);
      if (nl < 0) break;
      const prevStart = this.lineStarts[this.lineStarts.length - 1]!;
      const prevBytes = this.lineBytes[this.lineBytes.length - 1]!;
      this.lineStarts.push(nl + 1);
      this.lineBytes.push(prevBytes + this.utf8Len(prevStart, nl + 1));
      from = nl + 1;
    }
  }

  private utf8Len(from: number, to: number): number {
    if (this.ascii) return to - from;
    let n = 0;
    const t = this.text;
    for (let i = from; i < to; i++) {
      const c = t.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }

  pos(index: number): Pos {
    const i = Math.max(0, Math.min(index, this.text.length));
    // Binary search for the line containing i.
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    // Most lookups are on the same line as the previous one.
    const last = this.lastLine;
    if (this.lineStarts[last]! <= i && (last + 1 >= this.lineStarts.length || this.lineStarts[last + 1]! > i)) {
      lo = hi = last;
    }
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    this.lastLine = lo;
    const ls = this.lineStarts[lo]!;
    const line = this.base.line + lo;
    let cols: number;
    let bytes: number;
    if (this.ascii) {
      cols = i - ls;
      bytes = i - ls;
    } else {
      const t = this.tables();
      cols = t.cols[i]! - t.cols[ls]!;
      bytes = t.bytes[i]! - t.bytes[ls]!;
    }
    const column = (lo === 0 ? this.base.column : 1) + cols;
    const byte = this.base.byte + this.lineBytes[lo]! + bytes;
    return { line, column, byte };
  }

  /**
   * Per-index running column and byte counts, built once for non-ASCII text. Columns count
   * grapheme clusters, as HCL does (an emoji ZWJ sequence or a letter with combining marks is one).
   */
  private tables(): { cols: Int32Array; bytes: Int32Array } {
    if (this.table) return this.table;
    const t = this.text;
    const n = t.length;
    const cols = new Int32Array(n + 1);
    const bytes = new Int32Array(n + 1);
    let col = 0;
    let byte = 0;
    for (const { segment, index } of graphemeSegmenter.segment(t)) {
      for (let k = 0; k < segment.length; k++) {
        cols[index + k] = col;
        bytes[index + k] = byte;
        const c = segment.charCodeAt(k);
        if (c >= 0xd800 && c <= 0xdbff && k + 1 < segment.length && isLowSurrogate(segment.charCodeAt(k + 1))) {
          cols[index + k + 1] = col;
          bytes[index + k + 1] = byte;
          byte += 4;
          k++;
        } else byte += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
      col = segment.includes("\n") ? 0 : col + 1;
    }
    cols[n] = col;
    bytes[n] = byte;
    this.table = { cols, bytes };
    return this.table;
  }

  range(start: number, end: number): SourceRange {
    return { filename: this.filename, start: this.pos(start), end: this.pos(end) };
  }
}

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
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
