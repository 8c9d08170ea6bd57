// The registry's downloads: the caps on each kind of file, and imgb's one capped download
// (core/download: a Content-Length above the cap refused before reading, the body cut off the moment
// it passes the cap, an idle clock and a slow-retrieval deadline) with its failures worded as
// RegistryErrors. A registry folder used in place (file://) is read under the same caps.
import { lstat, open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { RegistryError } from "./errors.ts";
import { DEFAULT_TIMING, DownloadClock, DownloadError, fetchBytes, readBodyCapped as readBody, type Timing } from "../download/fetch.ts";

export const CAPS = {
  root: 512 * 1024,
  timestamp: 64 * 1024,
  /** Upper bound for any index, whatever the timestamp claims. */
  index: 32 * 1024 * 1024,
  /** Upper bound for any plugin, whatever the index claims. */
  wasm: 256 * 1024 * 1024,
  /** OCI manifests and token answers. */
  manifest: 64 * 1024,
} as const;

export { DEFAULT_TIMING, deadlineFor, DownloadClock, redactUrl, type Timing } from "../download/fetch.ts";

type Where = { registry: string; plugin?: string };

/** Returns undefined on 404 (callers decide whether absence is fine), throws otherwise. */
export async function fetchCapped(
  url: string,
  cap: number,
  where: Where,
  what: string,
  timing: Timing = DEFAULT_TIMING,
  headers: Record<string, string> = {},
): Promise<Uint8Array | undefined> {
  if (url.startsWith("file://")) return readCappedFile(url, cap, where, what);
  return fetchBytes(url, { cap, what, timing, headers }).catch((e: unknown) => {
    throw asRegistryError(e, where);
  });
}

/** Reads a response body into memory, refusing more than `cap` bytes and giving up at the clock's limits. */
export async function readBodyCapped(res: Response, cap: number, where: Where, what: string, clock: DownloadClock): Promise<Uint8Array> {
  return readBody(res, cap, what, clock).catch((e: unknown) => {
    throw asRegistryError(e, where);
  });
}

function asRegistryError(e: unknown, where: Where): unknown {
  if (!(e instanceof DownloadError)) return e;
  return new RegistryError(e.kind === "too-large" ? "too-large" : "unreachable", e.message, where);
}

/** Joins a registry base URL and a relative file path. */
export function registryFileUrl(base: string, file: string): string {
  return `${base.replace(/\/+$/, "")}/${file}`;
}

/** A registry folder used in place (file:// URL, e.g. a mirror on a USB stick): same caps. */
async function readCappedFile(url: string, cap: number, where: Where, what: string): Promise<Uint8Array | undefined> {
  const path = fileURLToPath(url);
  // A FIFO or device would block or never end: only regular files are read.
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw new RegistryError("unreachable", `cannot read ${what} (${url}): ${e.message}`, where);
  });
  if (st === undefined) return undefined;
  if (!st.isFile()) throw new RegistryError("unreachable", `cannot read ${what} (${url}): not a regular file`, where);
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    if (size > cap) throw new RegistryError("too-large", `${what} is ${size} bytes, over the limit of ${cap} bytes`, where);
    const buf = new Uint8Array(size);
    const { bytesRead } = await fh.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
