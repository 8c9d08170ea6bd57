// Tar headers (POSIX ustar, as Go's archive/tar writes for Packer's compress): one regular-file
// entry per input. Names longer than ustar allows get a PAX 'path' record; sizes of 8 GiB and more
// use the GNU base-256 size field, which GNU tar and Go read.

const BLOCK = 512;

export interface TarEntry {
  name: string;
  size: number;
  mode: number;
  mtimeSec: number;
  uid: number;
  gid: number;
}

function putString(h: Uint8Array, off: number, len: number, s: string): void {
  const b = new TextEncoder().encode(s);
  h.set(b.subarray(0, len), off);
}

function putOctal(h: Uint8Array, off: number, len: number, n: number): void {
  // len-1 octal digits and a NUL, as Go does.
  putString(h, off, len, Math.floor(n).toString(8).padStart(len - 1, "0").slice(-(len - 1)) + "\0");
}

function fitsOctal(n: number, len: number): boolean {
  return n >= 0 && n < 8 ** (len - 1);
}

function putBase256(h: Uint8Array, off: number, len: number, n: number): void {
  let v = BigInt(n);
  for (let i = off + len - 1; i > off; i--) {
    h[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  h[off] = 0x80;
}

function header(name: string, size: number, typeflag: string, e: TarEntry): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, e.mode & 0o7777);
  putOctal(h, 108, 8, fitsOctal(e.uid, 8) ? e.uid : 0);
  putOctal(h, 116, 8, fitsOctal(e.gid, 8) ? e.gid : 0);
  if (fitsOctal(size, 12)) putOctal(h, 124, 12, size);
  else putBase256(h, 124, 12, size);
  putOctal(h, 136, 12, fitsOctal(e.mtimeSec, 12) ? e.mtimeSec : 0);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  putString(h, 156, 1, typeflag);
  putString(h, 257, 6, "ustar\0");
  putString(h, 263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

function paxRecord(key: string, value: string): string {
  // "<len> key=value\n" where len counts every byte of the record, its own digits included.
  const body = ` ${key}=${value}\n`;
  const bodyBytes = new TextEncoder().encode(body).length;
  let len = bodyBytes + 1;
  while (String(len).length + bodyBytes !== len) len = String(len).length + bodyBytes;
  return `${len}${body}`;
}

/** The header block(s) for one entry: a PAX header first when the name does not fit ustar. */
export function tarHeader(e: TarEntry): Uint8Array {
  const nameBytes = new TextEncoder().encode(e.name).length;
  const ascii = /^[\x20-\x7e]*$/.test(e.name);
  if (nameBytes <= 100 && ascii) return header(e.name, e.size, "0", e);
  const pax = new TextEncoder().encode(paxRecord("path", e.name));
  const paxHeader = header(`PaxHeaders/${e.name.replace(/[^\x20-\x7e]/g, "_").slice(0, 80)}`, pax.length, "x", e);
  const out = new Uint8Array(BLOCK + padded(pax.length) + BLOCK);
  out.set(paxHeader, 0);
  out.set(pax, BLOCK);
  out.set(header(e.name.replace(/[^\x20-\x7e]/g, "_").slice(0, 100), e.size, "0", e), BLOCK + padded(pax.length));
  return out;
}

export function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** Zero bytes that complete an entry's data to a whole block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array(padded(size) - size);
}

/** Two zero blocks end the archive. */
export function tarTrailer(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}
