// Every download is capped: a server (or someone in the middle) that sends endless data is cut off
// at the cap instead of filling memory or disk, and one that sends slowly is cut off at a deadline
// (TUF's slow-retrieval defence). `fetchCapped` reads the body as a stream and aborts the moment the
// cap is passed; a Content-Length above the cap is refused before reading anything. Each download
// has two clocks: an idle limit (no byte for `idleMs`) and a total deadline derived from its cap and a
// minimum rate (`deadlineFor`), so a server trickling a byte every few seconds still fails in time.
import { lstat, open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { RegistryError } from "./errors.ts";

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

export interface Timing {
  /** The download fails when no byte arrives for this long. */
  idleMs: number;
  /** Fixed part of the total deadline (connection, first byte). */
  baseMs: number;
  /** Slowest acceptable average rate, bytes per second: the deadline is baseMs + cap / minRate. */
  minBytesPerSecond: number;
}

export const DEFAULT_TIMING: Timing = { idleMs: 30_000, baseMs: 30_000, minBytesPerSecond: 64 * 1024 };

export function deadlineFor(cap: number, t: Timing): number {
  return t.baseMs + Math.ceil((cap / t.minBytesPerSecond) * 1000);
}

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
  const clock = new DownloadClock(cap, timing);
  try {
    let res: Response;
    try {
      // Redirects are followed: nothing is trusted for where it came from, only for its signatures and hashes.
      res = await fetch(url, { signal: clock.signal, redirect: "follow", headers });
    } catch (e) {
      throw new RegistryError("unreachable", `cannot fetch ${what} (${redactUrl(url)}): ${clock.why(e)}`, where);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError("unreachable", `cannot fetch ${what} (${redactUrl(url)}): HTTP ${res.status}`, where);
    }
    return await readBodyCapped(res, cap, where, what, clock);
  } finally {
    clock.stop();
  }
}

/** The two clocks of one download. */
export class DownloadClock {
  private readonly ctl = new AbortController();
  private idle: ReturnType<typeof setTimeout>;
  private readonly total: ReturnType<typeof setTimeout>;
  private reason = "";
  readonly deadlineMs: number;

  constructor(cap: number, private readonly timing: Timing) {
    this.deadlineMs = deadlineFor(cap, timing);
    this.idle = this.arm();
    this.total = setTimeout(() => this.abort(`not complete after ${this.deadlineMs} ms (slower than ${timing.minBytesPerSecond} bytes/s: slow retrieval)`), this.deadlineMs);
  }
  get signal(): AbortSignal {
    return this.ctl.signal;
  }
  private arm() {
    return setTimeout(() => this.abort(`no data for ${this.timing.idleMs} ms`), this.timing.idleMs);
  }
  private abort(reason: string): void {
    this.reason = reason;
    this.ctl.abort();
  }
  alive(): void {
    clearTimeout(this.idle);
    this.idle = this.arm();
  }
  why(e: unknown): string {
    return this.ctl.signal.aborted ? this.reason : (e as Error).message;
  }
  stop(): void {
    clearTimeout(this.idle);
    clearTimeout(this.total);
  }
}

/** Reads a response body into memory, refusing more than `cap` bytes and giving up at the clock's limits. */
export async function readBodyCapped(res: Response, cap: number, where: Where, what: string, clock: DownloadClock): Promise<Uint8Array> {
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
      chunk = await Promise.race([reader.read(), aborted(clock.signal)]);
    } catch (e) {
      await reader.cancel().catch(() => {});
      throw new RegistryError("unreachable", `download of ${what} failed: ${clock.why(e)}`, where);
    }
    if (chunk.done) break;
    clock.alive();
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
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error("aborted"));
    signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
  });
}

/** Joins a registry base URL and a relative file path. */
export function registryFileUrl(base: string, file: string): string {
  return `${base.replace(/\/+$/, "")}/${file}`;
}

/** A URL without its `user:password@` part, for anything printed or stored. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
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
