// A small pool of Bun Workers that compress independent chunks (raw deflate or zstd frames) in
// parallel: the pigz idea. Each chunk is compressed on its own, so N workers keep N cores busy and
// the ordered writer (parallel-stream.ts) concatenates the results.
//
// Why Workers and not node:zlib's async API: measured here (Bun 1.4.5, 2 cores), four 8 MiB
// deflates took 579 ms async-sequential, 487 ms async-concurrent (Bun's zlib work hardly runs in
// parallel) and 286 ms on two Workers. Why a Blob worker from a source string: a worker file would
// have to be an extra entry point of the compiled binary (STACK-NOTES); a Blob URL needs nothing,
// works in `bun build --compile` binaries (checked), and the source is a few lines. It is kept in
// plain JavaScript on purpose: a stringified TypeScript function gets bundler-renamed helpers
// (e.g. `require`) that do not exist inside the worker.
import { availableParallelism } from "node:os";

export type ChunkCodec = "deflate-raw" | "zstd";

const WORKER_SOURCE = `
const zlib = require("node:zlib");
self.onmessage = (event) => {
  const { id, codec, level, last, data } = event.data;
  try {
    let out;
    if (codec === "zstd") {
      out = zlib.zstdCompressSync(data, { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
    } else {
      // Non-final chunks end with a sync flush: byte-aligned, no final bit, so raw deflate outputs
      // concatenate into one valid stream; the final chunk ends the stream.
      out = zlib.deflateRawSync(data, { level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH });
    }
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    postMessage({ id, ok: true, data: bytes }, [bytes.buffer]);
  } catch (e) {
    postMessage({ id, ok: false, error: String(e && e.message ? e.message : e) });
  }
};
`;

let workerUrl: string | null = null;

function url(): string {
  workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
  return workerUrl;
}

interface Reply {
  id: number;
  ok: boolean;
  data?: Uint8Array;
  error?: string;
}

interface Pending {
  resolve: (data: Uint8Array) => void;
  reject: (err: Error) => void;
}

/** Default worker count: every core, at most 8 (compression is the only CPU work here). */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number = defaultWorkers()) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(url());
      w.onmessage = (e: MessageEvent<Reply>) => this.settle(w, e.data);
      w.onerror = (e: ErrorEvent) => this.failAll(new Error(`compression worker failed: ${e.message}`));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  private settle(w: Worker, reply: Reply): void {
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    this.idle.push(w);
    this.waiting.shift()?.();
    if (!p) return;
    if (reply.ok && reply.data) p.resolve(reply.data);
    else p.reject(new Error(reply.error ?? "compression failed"));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /**
   * Compresses one chunk on the next free worker. `data` is transferred (the caller must not reuse
   * it). Resolves to the compressed bytes.
   */
  async compress(data: Uint8Array, codec: ChunkCodec, level: number, last: boolean): Promise<Uint8Array> {
    while (this.idle.length === 0) {
      if (this.closed) throw new Error("compression pool is closed");
      await new Promise<void>((r) => this.waiting.push(r));
    }
    if (this.closed) throw new Error("compression pool is closed");
    const w = this.idle.pop()!;
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Transfer only a buffer the view owns entirely; otherwise copy (never detach a shared buffer).
      const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      w.postMessage({ id, codec, level, last, data: owned }, [owned.buffer as ArrayBuffer]);
    });
  }

  /** Stops every worker; pending compressions fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error("compression pool is closed"));
    for (const w of this.workers) w.terminate();
    for (const wake of this.waiting.splice(0)) wake();
  }
}
