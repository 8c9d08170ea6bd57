// A source text and the positions in it. Parsers record plain UTF-16 offsets (what JS strings give);
// a Pos (1-based line, 1-based column, 0-based UTF-8 byte) is computed only when a diagnostic or a
// range needs one, so reading a large file does not pay for positions nobody looks at.
//
// Columns count grapheme clusters in HCL (as HCL does: an emoji ZWJ sequence or a letter with
// combining marks is one column, a tab is one) and code points in legacy JSON templates.
import type { Pos, SourceRange } from "../errors/diagnostic.ts";

export type ColumnUnit = "grapheme" | "codepoint";

export interface SourceFileOptions {
  /** Position of text[0] when the text is a fragment of a larger file (e.g. a JSON string). */
  base?: Pos;
  /** What a column counts; code points unless said otherwise. */
  columns?: ColumnUnit;
}

export class SourceFile {
  /** UTF-16 offset of the first character of each line. */
  private readonly lineStarts: number[] = [0];
  /** UTF-8 byte offset (from text[0]) of each line start, computed when first needed. */
  private lineBytes: number[] | undefined;
  private readonly ascii: boolean;
  private readonly base: Pos;
  private readonly columns: ColumnUnit;
  /** Per-offset running column and byte counts, built once for non-ASCII text when first needed. */
  private table: { cols: Int32Array; bytes: Int32Array } | undefined;
  /** Most lookups are on the same line as the previous one. */
  private lastLine = 0;

  constructor(
    readonly filename: string,
    readonly text: string,
    options: SourceFileOptions = {},
  ) {
    this.base = options.base ?? { line: 1, column: 1, byte: 0 };
    this.columns = options.columns ?? "codepoint";
    // eslint-disable-next-line no-control-regex
    this.ascii = !/[^\x00-\x7f]/.test(text);
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", nl + 1)) this.lineStarts.push(nl + 1);
  }

  /** Position of a UTF-16 offset (clamped to the text). */
  pos(offset: number): Pos {
    const i = Math.max(0, Math.min(offset, this.text.length));
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    const last = this.lastLine;
    if (starts[last]! <= i && (last + 1 >= starts.length || starts[last + 1]! > i)) lo = hi = last;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    this.lastLine = lo;
    const ls = starts[lo]!;
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
    return {
      line: this.base.line + lo,
      column: (lo === 0 ? this.base.column : 1) + cols,
      byte: this.base.byte + this.lineByte(lo) + bytes,
    };
  }

  range(start: number, end: number): SourceRange {
    return { filename: this.filename, start: this.pos(start), end: this.pos(end) };
  }

  private lineByte(line: number): number {
    if (this.ascii) return this.lineStarts[line]!;
    if (!this.lineBytes) {
      const out = [0];
      for (let k = 1; k < this.lineStarts.length; k++) out.push(out[k - 1]! + utf8Length(this.text, this.lineStarts[k - 1]!, this.lineStarts[k]!));
      this.lineBytes = out;
    }
    return this.lineBytes[line]!;
  }

  private tables(): { cols: Int32Array; bytes: Int32Array } {
    if (this.table) return this.table;
    const t = this.text;
    const n = t.length;
    const cols = new Int32Array(n + 1);
    const bytes = new Int32Array(n + 1);
    let col = 0;
    let byte = 0;
    const mark = (segment: string, index: number): void => {
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
    };
    if (this.columns === "grapheme") {
      for (const { segment, index } of graphemeSegmenter.segment(t)) mark(segment, index);
    } else {
      for (let i = 0; i < n; ) {
        const c = t.charCodeAt(i);
        const len = c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(t.charCodeAt(i + 1)) ? 2 : 1;
        mark(t.slice(i, i + len), i);
        i += len;
      }
    }
    cols[n] = col;
    bytes[n] = byte;
    this.table = { cols, bytes };
    return this.table;
  }
}

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
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

/** A range covering both ranges (they must be in the same file). */
export function unionRange(a: SourceRange, b: SourceRange): SourceRange {
  const start = a.start.byte <= b.start.byte ? a.start : b.start;
  const end = a.end.byte >= b.end.byte ? a.end : b.end;
  return { filename: a.filename, start, end };
}
