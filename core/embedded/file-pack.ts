// Several files as one byte string, so that they compress as one stream: the first-party plugins
// share the SDK's runtime code, and compressed together they take a sixth of their separate sizes.
// Layout: u32 (little-endian) length of a JSON index [[name, length], ...], the index, then the
// files' bytes in index order.
import * as v from "valibot";

const PackIndex = v.array(v.tuple([v.string(), v.pipe(v.number(), v.integer(), v.minValue(0))]));

export function packFiles(files: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  const index = new TextEncoder().encode(JSON.stringify(files.map(([name, bytes]) => [name, bytes.length])));
  const out = new Uint8Array(4 + index.length + files.reduce((n, [, b]) => n + b.length, 0));
  new DataView(out.buffer).setUint32(0, index.length, true);
  out.set(index, 4);
  let at = 4 + index.length;
  for (const [, bytes] of files) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** The files of a pack (views into `pack`); throws on a pack that does not add up. */
export function unpackFiles(pack: Uint8Array): Map<string, Uint8Array> {
  const indexLength = new DataView(pack.buffer, pack.byteOffset, pack.byteLength).getUint32(0, true);
  const index = v.parse(PackIndex, JSON.parse(new TextDecoder().decode(pack.subarray(4, 4 + indexLength))));
  const files = new Map<string, Uint8Array>();
  let at = 4 + indexLength;
  for (const [name, length] of index) {
    if (at + length > pack.length) throw new Error(`file pack: ${name} runs past the end`);
    files.set(name, pack.subarray(at, at + length));
    at += length;
  }
  if (at !== pack.length) throw new Error("file pack: bytes after the last file");
  return files;
}
