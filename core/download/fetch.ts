// The one way imgb fetches a file over HTTP(S): the registry's metadata and plugins, self-update's
// release files and a builder's ISO all come through here, with the same defences.
// - Capped: a Content-Length above the cap is refused before reading; the body is read as a stream
//   and cut off the moment it passes the cap, so an endless answer fills neither memory nor disk.
// - Two clocks: an idle limit (no byte for `idleMs`) and a total deadline, derived from the cap and a
//   minimum rate (TUF's slow-retrieval defence) unless the caller fixes one.
// - To a file, staged: bytes go to a `.part` file beside the target, created afresh with O_EXCL and
//   O_NOFOLLOW (a link planted under that name is never written through), and the part only takes
//   the target's name, by rename(2) (which replaces a name without following it), once the caller's
//   check of the finished bytes (a checksum) passed. A failed or cancelled download leaves nothing.
// Failures are DownloadErrors with a kind; each caller words them into its own error class.
import { constants, type WriteStream } from "node:fs";
import { open as openFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { once } from "node:events";

export interface Timing {
  /** The download fails when no byte arrives for this long. */
  idleMs: number;
  /** Fixed part of the total deadline (connection, first byte). */
  baseMs: number;
  /** Slowest acceptable average rate, bytes per second: the deadline is baseMs + cap / minRate. */
  minBytesPerSecond: number;
  /** A fixed total deadline instead of the derived one (Infinity: none). */
  deadlineMs?: number;
}

export const DEFAULT_TIMING: Timing = { idleMs: 30_000, baseMs: 30_000, minBytesPerSecond: 64 * 1024 };

export function deadlineFor(cap: number, t: Timing): number {
  return t.deadlineMs ?? t.baseMs + Math.ceil((cap / t.minBytesPerSecond) * 1000);
}

export type DownloadFailure = "unreachable" | "too-large" | "cancelled";

export class DownloadError extends Error {
  constructor(
    readonly kind: DownloadFailure,
    message: string,
    /** The HTTP status when the server answered with an error. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The two clocks of one download, and the caller's own cancellation. */
export class DownloadClock {
  private readonly ctl = new AbortController();
  private idle: ReturnType<typeof setTimeout> | undefined;
  private readonly total: ReturnType<typeof setTimeout> | undefined;
  private reason = "";
  readonly deadlineMs: number;

  constructor(
    cap: number,
    private readonly timing: Timing,
    private readonly outer?: AbortSignal,
  ) {
    this.deadlineMs = deadlineFor(cap, timing);
    this.idle = this.arm();
    // setTimeout fires at once for delays past 2^31 - 1 ms: those are no deadline at all.
    if (this.deadlineMs <= 0x7fffffff) {
      const slow = timing.deadlineMs === undefined ? ` (slower than ${timing.minBytesPerSecond} bytes/s: slow retrieval)` : "";
      this.total = setTimeout(() => this.abort(`not complete after ${this.deadlineMs} ms${slow}`), this.deadlineMs);
    }
    outer?.addEventListener("abort", () => this.abort("cancelled"), { once: true });
    if (outer?.aborted) this.abort("cancelled");
  }
  get signal(): AbortSignal {
    return this.ctl.signal;
  }
  /** True when the caller cancelled (as opposed to a clock running out). */
  get cancelled(): boolean {
    return this.outer?.aborted ?? false;
  }
  private arm() {
    return setTimeout(() => this.abort(`no data for ${this.timing.idleMs} ms`), this.timing.idleMs);
  }
  private abort(reason: string): void {
    if (this.ctl.signal.aborted) return;
    this.reason = reason;
    this.ctl.abort();
  }
  alive(): void {
    clearTimeout(this.idle);
    this.idle = this.arm();
  }
  why(e: unknown): string {
    return this.ctl.signal.aborted ? this.reason : e instanceof Error ? e.message : String(e);
  }
  stop(): void {
    clearTimeout(this.idle);
    clearTimeout(this.total);
  }
}

/** A URL without its `user:password@` part, for anything printed or stored. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

/** Refuses a body that says it is over the cap, before reading any of it. */
export async function refuseDeclaredOverCap(res: Response, cap: number, what: string, already = 0): Promise<number | undefined> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (!Number.isFinite(declared)) return undefined;
  if (declared + already > cap) {
    await res.body?.cancel();
    throw new DownloadError("too-large", `${what} is ${declared + already} bytes, over the limit of ${cap} bytes`);
  }
  return declared;
}

/** A response body's chunks, stopped past `cap` bytes (counting `already`) or at the clock's limits. */
export async function* cappedChunks(res: Response, cap: number, what: string, clock: DownloadClock, already = 0): AsyncGenerator<Uint8Array> {
  const reader = res.body?.getReader();
  if (!reader) return;
  let total = already;
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await Promise.race([reader.read(), aborted(clock.signal)]);
      } catch (e) {
        throw new DownloadError(clock.cancelled ? "cancelled" : "unreachable", `download of ${what} failed: ${clock.why(e)}`);
      }
      if (chunk.done) return;
      clock.alive();
      total += chunk.value.byteLength;
      if (total > cap) throw new DownloadError("too-large", `${what} exceeds the limit of ${cap} bytes (download stopped)`);
      yield chunk.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Reads a response body into memory under the cap (Content-Length checked first). */
export async function readBodyCapped(res: Response, cap: number, what: string, clock: DownloadClock): Promise<Uint8Array> {
  await refuseDeclaredOverCap(res, cap, what);
  const chunks: Uint8Array[] = [];
  for await (const c of cappedChunks(res, cap, what, clock)) chunks.push(c);
  return Buffer.concat(chunks);
}

export interface FetchOptions {
  cap: number;
  /** What is fetched, for messages ("timestamp", "plugin binary"). */
  what: string;
  timing?: Timing;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Fetches into memory; undefined on 404 (callers decide whether absence is fine). */
export async function fetchBytes(url: string, o: FetchOptions): Promise<Uint8Array | undefined> {
  const clock = new DownloadClock(o.cap, o.timing ?? DEFAULT_TIMING, o.signal);
  try {
    const res = await open(url, o, clock, {});
    if (!res) return undefined;
    return await readBodyCapped(res, o.cap, o.what, clock);
  } finally {
    clock.stop();
  }
}

/** One request; undefined on 404, a DownloadError on a failure to connect or any other error status. */
async function open(
  url: string,
  o: FetchOptions,
  clock: DownloadClock,
  extra: { headers?: Record<string, string>; raw?: boolean; absentIsError?: boolean },
): Promise<Response | undefined> {
  let res: Response;
  try {
    // Redirects are followed: nothing is trusted for where it came from, only for the caller's
    // signatures and checksums over what arrives.
    res = await fetch(url, { signal: clock.signal, redirect: "follow", headers: { ...o.headers, ...extra.headers }, ...(extra.raw ? { decompress: false } : {}) });
  } catch (e) {
    throw new DownloadError(clock.cancelled ? "cancelled" : "unreachable", `cannot fetch ${o.what} (${redactUrl(url)}): ${clock.why(e)}`);
  }
  if (res.status === 404 && !extra.absentIsError) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new DownloadError("unreachable", `cannot fetch ${o.what} (${redactUrl(url)}): HTTP ${res.status}`, res.status);
  }
  return res;
}

export interface Hasher {
  update(bytes: Uint8Array): unknown;
  digest(encoding: "hex"): string;
}

export interface FileFetchOptions extends FetchOptions {
  /** A fresh digest (sha256, or the template's checksum type), fed every byte as it is written. */
  hasher: () => Hasher;
  /** Called once the size is known (undefined when the server does not say). */
  progress?(total: number | undefined): { update(done: number): void; finish(): void };
  /**
   * After the last byte, before the staged file takes the target's name: check the digest (throw to
   * refuse; nothing is left behind) or prepare the rename (a mode, moving a running .exe aside).
   */
  commit?(digest: string, part: string): Promise<void>;
  /** Mode of the staged file (0o644 by default, less the umask). */
  mode?: number;
  /** Connections a download may take, resuming with a Range request after a drop (default 5). */
  attempts?: number;
  /** Ask for the bytes as stored, not content-decoded (an ISO is checked against its published sum). */
  raw?: boolean;
}

/** The staged name beside `target`: hidden, and per process, so parallel runs never share one. */
export function partPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.part`);
}

/** Downloads `url` to `target` through a staged part file; returns the digest of what was written. */
export async function fetchToFile(url: string, target: string, o: FileFetchOptions): Promise<string> {
  const part = partPath(target);
  const attempts = o.attempts ?? 5;
  let h = o.hasher();
  let written = 0;
  let total: number | undefined;
  let progress: ReturnType<NonNullable<FileFetchOptions["progress"]>> | undefined;
  let lastError = "";
  const clock = new DownloadClock(o.cap, o.timing ?? DEFAULT_TIMING, o.signal);
  await rm(part, { force: true });
  let out = await createStaged(part, o.mode ?? 0o644, true);
  try {
    for (let attempt = 0; ; attempt++) {
      if (attempt === attempts) throw new DownloadError("unreachable", `cannot fetch ${o.what} (${redactUrl(url)}): ${lastError} (gave up after ${attempts} attempts)`);
      let res: Response;
      try {
        res = (await open(url, o, clock, { absentIsError: true, raw: o.raw ?? false, ...(written > 0 ? { headers: { range: `bytes=${written}-` } } : {}) }))!;
      } catch (err) {
        if (!(err instanceof DownloadError) || err.status !== undefined || clock.signal.aborted) throw err;
        lastError = clock.why(err);
        await Bun.sleep(200 * (attempt + 1));
        continue;
      }
      if (written > 0 && res.status === 200) {
        // The server ignored the Range: start over.
        await finish(out);
        out = await createStaged(part, o.mode ?? 0o644, false);
        h = o.hasher();
        written = 0;
      } else if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        throw new DownloadError("unreachable", `cannot fetch ${o.what} (${redactUrl(url)}): HTTP ${res.status}`, res.status);
      }
      const declared = await refuseDeclaredOverCap(res, o.cap, o.what, written);
      if (total === undefined) {
        total = declared !== undefined && declared > 0 ? declared + written : undefined;
        progress = o.progress?.(total);
      }
      try {
        for await (const chunk of cappedChunks(res, o.cap, o.what, clock, written)) {
          h.update(chunk);
          if (!out.write(chunk)) await once(out, "drain");
          written += chunk.byteLength;
          progress?.update(written);
        }
      } catch (err) {
        if (!(err instanceof DownloadError) || err.kind !== "unreachable" || clock.signal.aborted) throw err;
        lastError = err.message;
        continue;
      }
      if (total !== undefined && written < total) {
        lastError = `connection closed after ${written} of ${total} bytes`;
        continue;
      }
      break;
    }
    await finish(out);
    progress?.finish();
    progress = undefined;
    const digest = h.digest("hex");
    await o.commit?.(digest, part);
    await rename(part, target);
    return digest;
  } catch (err) {
    out.destroy();
    progress?.finish();
    await rm(part, { force: true });
    throw err;
  } finally {
    clock.stop();
  }
}

/** Opens the part file for writing without following a link; `fresh` also refuses an existing file. */
async function createStaged(path: string, mode: number, fresh: boolean): Promise<WriteStream> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | (fresh ? constants.O_EXCL : 0);
  const fh = await openFile(path, flags, mode);
  return fh.createWriteStream({ highWaterMark: 1 << 20 });
}

async function finish(out: WriteStream): Promise<void> {
  if (out.closed) return;
  out.end();
  await once(out, "close");
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error("aborted"));
    signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
  });
}
