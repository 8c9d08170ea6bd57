// Packer's iso_checksum forms (packer-plugin-sdk commonsteps ISOConfig, go-getter's checksums):
// "none"; "TYPE:HEX" with TYPE md5, sha1, sha256 or sha512; a bare HEX whose length names the type;
// "file:URL-or-PATH" of a SUMS file (GNU `HEX  name`, `HEX *name`, or BSD `SHA256 (name) = HEX`),
// optionally "TYPE:file:..." to name the type. Parsing is pure (validate); reading a SUMS file that
// is a URL happens only when the build runs.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

export const HASH_TYPES = ["md5", "sha1", "sha256", "sha512"] as const;
export type HashType = (typeof HASH_TYPES)[number];
const HEX_LENGTH: Record<number, HashType> = { 32: "md5", 40: "sha1", 64: "sha256", 128: "sha512" };

export type ChecksumSpec =
  | { kind: "none" }
  | { kind: "hash"; type: HashType; hex: string }
  | { kind: "file"; source: string; type?: HashType };

export function parseChecksum(text: string): ChecksumSpec | { error: string } {
  const t = text.trim();
  if (t === "" || t.toLowerCase() === "none") return { kind: "none" };
  let rest = t;
  let type: HashType | undefined;
  const typed = /^([a-z0-9]+):(.*)$/i.exec(t);
  if (typed && typed[1]!.toLowerCase() !== "file") {
    const name = typed[1]!.toLowerCase();
    if (!(HASH_TYPES as readonly string[]).includes(name)) {
      return { error: `unsupported checksum type "${typed[1]}" (expected ${HASH_TYPES.join(", ")}, file: or none)` };
    }
    type = name as HashType;
    rest = typed[2]!;
  }
  if (/^file:/i.test(rest)) {
    const source = rest.slice(5);
    if (!source) return { error: `"file:" needs the URL or path of a checksum file` };
    return type ? { kind: "file", source, type } : { kind: "file", source };
  }
  if (!/^[0-9a-f]+$/i.test(rest)) return { error: `"${text}" is not a hex digest` };
  const byLength = HEX_LENGTH[rest.length];
  if (type && byLength !== type) return { error: `a ${type} digest has ${hexLengthOf(type)} hex digits, got ${rest.length}` };
  if (!byLength) return { error: `a ${rest.length}-digit hex digest is no md5, sha1, sha256 or sha512 digest` };
  return { kind: "hash", type: byLength, hex: rest.toLowerCase() };
}

function hexLengthOf(type: HashType): number {
  return Number(Object.entries(HEX_LENGTH).find(([, t]) => t === type)![0]);
}

/**
 * The digest for `fileName` in the text of a SUMS file. Lines name files with or without a leading
 * `./` or `*` (binary mode); the first whose base name matches wins.
 */
export function digestFromSums(sums: string, fileName: string, type?: HashType): { type: HashType; hex: string } | undefined {
  const want = basename(fileName);
  for (const raw of sums.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const bsd = /^([A-Z0-9]+) \((.+)\) = ([0-9a-f]+)$/i.exec(line);
    const gnu = /^([0-9a-f]+)\s+\*?(.+)$/i.exec(line);
    const [name, hex] = bsd ? [bsd[2]!, bsd[3]!] : gnu ? [gnu[2]!, gnu[1]!] : [undefined, undefined];
    if (!name || !hex || basename(name.replace(/^\.\//, "")) !== want) continue;
    const t = HEX_LENGTH[hex.length];
    if (!t || (type && t !== type)) continue;
    return { type: t, hex: hex.toLowerCase() };
  }
  return undefined;
}

/** Resolves a "file:" checksum (reading a local SUMS file or fetching a remote one) to a digest. */
export async function resolveChecksum(
  spec: ChecksumSpec,
  forUrl: string,
  opts: { baseDir: string; signal?: AbortSignal },
): Promise<{ kind: "none" } | { kind: "hash"; type: HashType; hex: string }> {
  if (spec.kind !== "file") return spec;
  const src = spec.source;
  let text: string;
  if (/^https?:\/\//i.test(src)) {
    const res = await fetch(src, opts.signal ? { signal: opts.signal } : {});
    if (!res.ok) throw new Error(`checksum file ${src}: HTTP ${res.status} ${res.statusText}`);
    text = await res.text();
  } else {
    const path = src.startsWith("file://") ? decodeURIComponent(src.slice(7)) : src;
    text = await readFile(path.startsWith("/") ? path : `${opts.baseDir}/${path}`, "utf8").catch((e: unknown) => {
      throw new Error(`checksum file ${src}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }
  const name = decodeURIComponent(new URL(forUrl, "file:///").pathname);
  const found = digestFromSums(text, name, spec.type);
  if (!found) throw new Error(`checksum file ${src} has no ${spec.type ?? ""} digest for ${basename(name)}`.replace("  ", " "));
  return { kind: "hash", ...found };
}

export function hasher(type: HashType): Bun.CryptoHasher {
  return new Bun.CryptoHasher(type);
}
