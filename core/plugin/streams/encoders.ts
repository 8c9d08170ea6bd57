// Byte-stream encoders the archive writers feed: parallel gzip / raw deflate / zstd (chunks
// compressed on a worker pool, written in order), pass-through, and an external compressor
// process (xz, lz4) for formats node:zlib does not have. Input is re-blocked into BLOCK_SIZE
// chunks; at most `inFlight` chunks exist at once, so memory stays flat whatever the file size.
import zlib from "node:zlib";
import { openForRead } from "../host/paths.ts";
import type { ByteSink } from "./sinks.ts";
import type { ChunkCodec, ChunkPool } from "./chunk-pool.ts";
import { Cancelled } from "../../errors/cancelled.ts";

// node:zlib's crc32 (zlib's SIMD code, ~10x Bun.hash.crc32 here) exists in Bun but not in bun-types.
const zlibCrc32 = (zlib as unknown as { crc32(data: Uint8Array, value?: number): number }).crc32;

/** 4 MiB: large enough that independent blocks lose almost no ratio, small enough to keep memory flat. */
export const BLOCK_SIZE = 4 * 2 ** 20;

export interface Encoder {
  /** Appends bytes (copied; the caller may reuse `data`). */
  push(data: Uint8Array): Promise<void>;
  /** Appends a whole file, read in large blocks straight into the encoder's buffers. */
  pushFile(path: string, size: number, onBytes: (n: number) => void, signal: AbortSignal): Promise<void>;
  /** Flushes everything; returns input bytes and CRC-32 of the input (for gzip/zip trailers). */
  finish(): Promise<{ inputBytes: number; crc32: number }>;
  /** Stops early (on error or abort): frees workers/processes; output is incomplete. */
  abort(): void;
}

function aborted(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Cancelled(typeof r === "string" ? r : "cancelled");
}

/** Shared block filling logic: subclasses say what to do with a full block. */
abstract class BlockEncoder implements Encoder {
  protected block: Uint8Array;
  protected fill = 0;
  inputBytes = 0;
  crc = 0;

  constructor(protected readonly blockSize: number) {
    this.block = new Uint8Array(blockSize);
  }

  protected abstract emit(block: Uint8Array, last: boolean): Promise<void>;
  protected abstract drain(): Promise<void>;
  abstract abort(): void;

  private account(bytes: Uint8Array): void {
    this.crc = zlibCrc32(bytes, this.crc);
    this.inputBytes += bytes.length;
  }

  private async flushFull(): Promise<void> {
    if (this.fill < this.blockSize) return;
    const full = this.block;
    this.block = new Uint8Array(this.blockSize);
    this.fill = 0;
    await this.emit(full, false);
  }

  async push(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.blockSize - this.fill, data.length - off);
      const part = data.subarray(off, off + n);
      this.block.set(part, this.fill);
      this.account(part);
      this.fill += n;
      off += n;
      await this.flushFull();
    }
  }

  async pushFile(path: string, size: number, onBytes: (n: number) => void, signal: AbortSignal): Promise<void> {
    // `path` is the grant check's resolved path: opened as every checked file is (no FIFO, no swapped link).
    const fh = await openForRead({ path, real: path });
    try {
      let pos = 0;
      while (pos < size) {
        if (signal.aborted) throw aborted(signal);
        const want = Math.min(this.blockSize - this.fill, size - pos);
        const { bytesRead } = await fh.read(this.block, this.fill, want, pos);
        if (bytesRead === 0) throw new Error(`${path} shrank while it was read (${pos} of ${size} bytes)`);
        this.account(this.block.subarray(this.fill, this.fill + bytesRead));
        this.fill += bytesRead;
        pos += bytesRead;
        onBytes(bytesRead);
        await this.flushFull();
      }
    } finally {
      await fh.close();
    }
  }

  async finish(): Promise<{ inputBytes: number; crc32: number }> {
    const rest = this.block.subarray(0, this.fill);
    this.block = new Uint8Array(0);
    this.fill = 0;
    await this.emit(rest.slice(), true);
    await this.drain();
    return { inputBytes: this.inputBytes, crc32: this.crc >>> 0 };
  }
}

/** Chunks compressed in parallel, written in input order. */
export class ParallelEncoder extends BlockEncoder {
  private readonly queue: Array<Promise<Uint8Array>> = [];
  private failed = false;

  constructor(
    private readonly pool: ChunkPool,
    private readonly codec: ChunkCodec,
    private readonly level: number,
    private readonly sink: ByteSink,
    private readonly inFlight = pool.size * 2,
    blockSize = BLOCK_SIZE,
  ) {
    super(blockSize);
  }

  protected async emit(block: Uint8Array, last: boolean): Promise<void> {
    const job = this.pool.compress(block, this.codec, this.level, last);
    job.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
    this.queue.push(job);
    while (this.queue.length >= this.inFlight) await this.writeHead();
  }

  private async writeHead(): Promise<void> {
    const head = this.queue.shift();
    if (!head) return;
    try {
      await this.sink.write(await head);
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  protected async drain(): Promise<void> {
    while (this.queue.length > 0) await this.writeHead();
  }

  abort(): void {
    this.queue.length = 0;
    if (!this.failed) this.failed = true;
  }
}

/** No compression: blocks go straight to the sink. */
export class PassThroughEncoder extends BlockEncoder {
  constructor(
    private readonly sink: ByteSink,
    blockSize = BLOCK_SIZE,
  ) {
    super(blockSize);
  }
  protected async emit(block: Uint8Array): Promise<void> {
    if (block.length) await this.sink.write(block);
  }
  protected async drain(): Promise<void> {}
  abort(): void {}
}

/**
 * An external compressor (xz, lz4) reading the stream on stdin and writing the output file itself.
 * xz runs multi-threaded (-T0); lz4 is fast enough single-threaded.
 */
export class ProcessEncoder extends BlockEncoder {
  private readonly proc: ReturnType<typeof Bun.spawn>;
  private readonly stdin: import("bun").FileSink;
  private readonly stderr: Promise<string>;

  constructor(argv: string[], outputPath: string, blockSize = BLOCK_SIZE) {
    super(blockSize);
    this.proc = Bun.spawn(argv, { stdin: "pipe", stdout: Bun.file(outputPath), stderr: "pipe" });
    this.stdin = this.proc.stdin as import("bun").FileSink;
    this.stderr = new Response(this.proc.stderr as ReadableStream<Uint8Array>).text();
  }

  protected async emit(block: Uint8Array): Promise<void> {
    if (block.length === 0) return;
    this.stdin.write(block);
    await this.stdin.flush();
  }

  protected async drain(): Promise<void> {
    await this.stdin.end();
    const code = await this.proc.exited;
    if (code !== 0) throw new Error(`${(await this.stderr).trim() || "compressor failed"} (exit ${code})`);
  }

  abort(): void {
    this.proc.kill("SIGKILL");
  }
}
