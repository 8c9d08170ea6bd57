// A streaming zip writer: each entry's local header is written with placeholder sizes, its data
// is deflated in parallel blocks (raw deflate concatenates like gzip's), then the header is patched
// in place with the CRC-32 and sizes, so no data descriptor and no buffering of whole files.
// Zip64 records are written for entries, offsets or counts past the 32-bit/16-bit limits.
import type { FileSink } from "./sinks.ts";

const U32 = 0xffffffff;
/** Entries at least this large get Zip64 local headers (deflate may grow incompressible data a little). */
const ZIP64_ENTRY = 0xf0000000;

export interface ZipEntryInfo {
  name: string;
  mode: number;
  mtime: Date;
  size: number;
}

interface Written {
  name: Uint8Array;
  mode: number;
  dosTime: number;
  dosDate: number;
  crc: number;
  compressed: number;
  uncompressed: number;
  offset: number;
  method: number;
  zip64: boolean;
}

function dos(d: Date): { time: number; date: number } {
  const y = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((y - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

function u64(view: DataView, off: number, n: number): void {
  view.setBigUint64(off, BigInt(n), true);
}

export class ZipWriter {
  private readonly entries: Written[] = [];

  constructor(private readonly sink: FileSink) {}

  private localHeader(w: Written): Uint8Array {
    const extraLen = w.zip64 ? 20 : 0;
    const buf = new Uint8Array(30 + w.name.length + extraLen);
    const v = new DataView(buf.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, w.zip64 ? 45 : 20, true);
    v.setUint16(6, 0x0800, true); // names are UTF-8
    v.setUint16(8, w.method, true);
    v.setUint16(10, w.dosTime, true);
    v.setUint16(12, w.dosDate, true);
    v.setUint32(14, w.crc >>> 0, true);
    v.setUint32(18, w.zip64 ? U32 : w.compressed, true);
    v.setUint32(22, w.zip64 ? U32 : w.uncompressed, true);
    v.setUint16(26, w.name.length, true);
    v.setUint16(28, extraLen, true);
    buf.set(w.name, 30);
    if (w.zip64) {
      const e = 30 + w.name.length;
      v.setUint16(e, 0x0001, true);
      v.setUint16(e + 2, 16, true);
      u64(v, e + 4, w.uncompressed);
      u64(v, e + 12, w.compressed);
    }
    return buf;
  }

  /**
   * Writes one entry. `writeData` streams the entry's (deflated) bytes into the sink and returns
   * the CRC-32 and size of the uncompressed input.
   */
  async addEntry(info: ZipEntryInfo, method: 0 | 8, writeData: () => Promise<{ crc32: number; inputBytes: number }>): Promise<void> {
    const t = dos(info.mtime);
    const w: Written = {
      name: new TextEncoder().encode(info.name),
      mode: info.mode,
      dosTime: t.time,
      dosDate: t.date,
      crc: 0,
      compressed: 0,
      uncompressed: 0,
      offset: this.sink.position,
      method,
      zip64: info.size >= ZIP64_ENTRY,
    };
    await this.sink.write(this.localHeader(w));
    const dataStart = this.sink.position;
    const r = await writeData();
    w.crc = r.crc32;
    w.uncompressed = r.inputBytes;
    w.compressed = this.sink.position - dataStart;
    if (!w.zip64 && (w.compressed >= U32 || w.uncompressed >= U32)) {
      throw new Error(`zip entry ${info.name} grew past 4 GiB while it was read`);
    }
    await this.sink.patch(w.offset, this.localHeader(w));
    this.entries.push(w);
  }

  private centralHeader(w: Written): Uint8Array {
    const big = [w.uncompressed >= U32 || w.zip64, w.compressed >= U32 || w.zip64, w.offset >= U32];
    const extraFields = big.filter(Boolean).length;
    const extraLen = extraFields ? 4 + 8 * extraFields : 0;
    const buf = new Uint8Array(46 + w.name.length + extraLen);
    const v = new DataView(buf.buffer);
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, (3 << 8) | 45, true); // made by Unix, spec 4.5
    v.setUint16(6, extraFields ? 45 : 20, true);
    v.setUint16(8, 0x0800, true);
    v.setUint16(10, w.method, true);
    v.setUint16(12, w.dosTime, true);
    v.setUint16(14, w.dosDate, true);
    v.setUint32(16, w.crc >>> 0, true);
    v.setUint32(20, big[1] ? U32 : w.compressed, true);
    v.setUint32(24, big[0] ? U32 : w.uncompressed, true);
    v.setUint16(28, w.name.length, true);
    v.setUint16(30, extraLen, true);
    v.setUint16(32, 0, true);
    v.setUint16(34, 0, true);
    v.setUint16(36, 0, true);
    v.setUint32(38, ((0o100000 | (w.mode & 0o7777)) << 16) >>> 0, true);
    v.setUint32(42, big[2] ? U32 : w.offset, true);
    buf.set(w.name, 46);
    if (extraFields) {
      let e = 46 + w.name.length;
      v.setUint16(e, 0x0001, true);
      v.setUint16(e + 2, 8 * extraFields, true);
      e += 4;
      if (big[0]) (u64(v, e, w.uncompressed), (e += 8));
      if (big[1]) (u64(v, e, w.compressed), (e += 8));
      if (big[2]) u64(v, e, w.offset);
    }
    return buf;
  }

  /** Central directory and end records. */
  async finish(): Promise<void> {
    const cdStart = this.sink.position;
    for (const w of this.entries) await this.sink.write(this.centralHeader(w));
    const cdSize = this.sink.position - cdStart;
    const count = this.entries.length;
    const needs64 = count >= 0xffff || cdStart >= U32 || cdSize >= U32;
    if (needs64) {
      const eocd64At = this.sink.position;
      const r = new Uint8Array(56 + 20);
      const v = new DataView(r.buffer);
      v.setUint32(0, 0x06064b50, true);
      u64(v, 4, 44);
      v.setUint16(12, (3 << 8) | 45, true);
      v.setUint16(14, 45, true);
      v.setUint32(16, 0, true);
      v.setUint32(20, 0, true);
      u64(v, 24, count);
      u64(v, 32, count);
      u64(v, 40, cdSize);
      u64(v, 48, cdStart);
      v.setUint32(56, 0x07064b50, true);
      v.setUint32(60, 0, true);
      u64(v, 64, eocd64At);
      v.setUint32(72, 1, true);
      await this.sink.write(r);
    }
    const end = new Uint8Array(22);
    const v = new DataView(end.buffer);
    v.setUint32(0, 0x06054b50, true);
    v.setUint16(8, Math.min(count, 0xffff), true);
    v.setUint16(10, Math.min(count, 0xffff), true);
    v.setUint32(12, Math.min(cdSize, U32), true);
    v.setUint32(16, Math.min(cdStart, U32), true);
    await this.sink.write(end);
  }
}
