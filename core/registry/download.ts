// Every download is capped: a server (or someone in the middle) that sends endless data is cut off
// at the cap instead of filling memory or disk. `fetchCapped` reads the body as a stream and aborts
// the moment the cap is passed; a Content-Length above the cap is refused before reading anything.
import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { RegistryError } from "./errors.ts";

export const CAPS = {
  root: 512 * 1024,
  timestamp: 64 * 1024,
  /** Upper bound for any index, whatever the timestamp claims. */
  index: 32 * 1024 * 1024,
  /** Upper bound for any plugin, whatever the index claims. */
  wasm: 256 * 1024 * 1024,
} as const;

export interface FetchedFile {
  bytes: Uint8Array;
}

/** Returns undefined on 404 (callers decide whether absence is fine), throws otherwise. */
export async function fetchCapped(
  url: string,
  cap: number,
  where: { registry: string; plugin?: string },
  what: string,
  /** Idle limit: the download fails when no byte arrives for this long (a slow big module is fine). */
  timeoutMs = 30_000,
): Promise<Uint8Array | undefined> {
  if (url.startsWith("file://")) return readCappedFile(url, cap, where, what);
  const ctl = new AbortController();
  let timer = setTimeout(() => ctl.abort(), timeoutMs);
  const stillAlive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctl.abort(), timeoutMs);
  };
  try {
    let res: Response;
    try {
      // Redirects are followed: nothing is trusted for where it came from, only for its signatures and hashes.
      res = await fetch(url, { signal: ctl.signal, redirect: "follow" });
    } catch (e) {
      const why = ctl.signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message;
      throw new RegistryError("unreachable", `cannot fetch ${what} (${url}): ${why}`, where);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError("unreachable", `cannot fetch ${what} (${url}): HTTP ${res.status}`, where);
    }
    const declared = Number(res.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > cap) {
      await res.body?.cancel();
      throw new RegistryError("too-large", `${what} is ${declared} bytes, over the limit of ${cap} bytes`, where);
    }
    const reader = res.body?.getReader();
    if (!reader) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        const why = ctl.signal.aborted ? `no data for ${timeoutMs} ms` : (e as Error).message;
        throw new RegistryError("unreachable", `download of ${what} (${url}) failed: ${why}`, where);
      }
      if (chunk.done) break;
      stillAlive();
      total += chunk.value.byteLength;
      if (total > cap) {
        await reader.cancel().catch(() => {});
        throw new RegistryError("too-large", `${what} exceeds the limit of ${cap} bytes (download stopped)`, where);
      }
      chunks.push(chunk.value);
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.byteLength;
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** Joins a registry base URL and a relative file path. */
export function registryFileUrl(base: string, file: string): string {
  return `${base.replace(/\/+$/, "")}/${file}`;
}

/** A registry folder used in place (file:// URL, e.g. a mirror on a USB stick): same caps. */
async function readCappedFile(url: string, cap: number, where: { registry: string; plugin?: string }, what: string): Promise<Uint8Array | undefined> {
  let fh;
  try {
    fh = await open(fileURLToPath(url), "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new RegistryError("unreachable", `cannot read ${what} (${url}): ${(e as Error).message}`, where);
  }
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
