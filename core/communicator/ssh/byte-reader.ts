// Reads a channel's stdout as a protocol byte stream (for scp): single bytes, lines and exact
// lengths, pausing the channel when too much is buffered so a large file is never held whole.
import type { Readable } from "node:stream";

const HIGH_WATER = 4 * 1024 * 1024;

export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private error: Error | undefined;
  private waiter: (() => void) | undefined;

  constructor(private readonly stream: Readable) {
    stream.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered > HIGH_WATER) stream.pause();
      this.wake();
    });
    stream.on("end", () => {
      this.ended = true;
      this.wake();
    });
    stream.on("close", () => {
      this.ended = true;
      this.wake();
    });
    stream.on("error", (err: Error) => {
      this.error = err;
      this.wake();
    });
  }

  /** Called with the reason when the stream ends before the protocol expected. */
  endedEarly: () => Error = () => new Error("the connection ended early");

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async fill(): Promise<void> {
    while (this.buffered === 0) {
      if (this.error) throw this.error;
      if (this.ended) throw this.endedEarly();
      this.stream.resume();
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length <= n) {
      this.chunks.shift();
      out = first;
    } else {
      out = first.subarray(0, n);
      this.chunks[0] = first.subarray(n);
    }
    this.buffered -= out.length;
    if (this.buffered < HIGH_WATER / 2) this.stream.resume();
    return out;
  }

  async byte(): Promise<number> {
    await this.fill();
    return this.take(1)[0]!;
  }

  async line(): Promise<string> {
    const parts: Buffer[] = [];
    for (;;) {
      await this.fill();
      const first = this.chunks[0]!;
      const nl = first.indexOf(10);
      if (nl >= 0) {
        parts.push(this.take(nl + 1).subarray(0, nl));
        return Buffer.concat(parts).toString("utf8");
      }
      parts.push(this.take(first.length));
    }
  }

  /** Hands exactly `n` bytes to `onChunk`, in order, as they arrive. */
  async exactly(n: number, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      await this.fill();
      const chunk = this.take(Math.min(left, this.chunks[0]!.length));
      left -= chunk.length;
      await onChunk(chunk);
    }
  }

  /** True once the stream ended and everything was read. */
  get done(): boolean {
    return this.ended && this.buffered === 0;
  }
}
