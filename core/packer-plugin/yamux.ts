// hashicorp/yamux (its spec.md), the client side of the session a Packer plugin serves: 12-byte
// frames multiplex streams over the plugin's one socket, each stream with a 256 KiB flow-control
// window. The plugin is the yamux server (even stream ids), imgb the client (odd ids). The server
// role is there for the test plugins that stand in for SDK-built ones.
import type { Socket } from "node:net";

const VERSION = 0;
const TYPE_DATA = 0, TYPE_WINDOW = 1, TYPE_PING = 2, TYPE_GO_AWAY = 3;
const SYN = 1, ACK = 2, FIN = 4, RST = 8;
const HEADER = 12;
const INITIAL_WINDOW = 256 * 1024;
/** Largest data frame we send; the window bounds it too. */
const MAX_FRAME = 64 * 1024;

export class YamuxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "YamuxError";
  }
}

export class YamuxStream {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private readWaiters: Array<() => void> = [];
  private remoteClosed = false;
  private localClosed = false;
  private error: Error | undefined;
  private sendWindow = INITIAL_WINDOW;
  private windowWaiters: Array<() => void> = [];
  /** Bytes handed to the reader since the last window update we sent. */
  private consumed = 0;

  constructor(
    private readonly session: YamuxSession,
    readonly id: number,
  ) {}

  /** Next chunk of data, or null at end of stream. */
  async read(): Promise<Uint8Array | null> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        this.buffered -= chunk.length;
        this.consumed += chunk.length;
        if (this.consumed >= INITIAL_WINDOW / 2 && !this.remoteClosed) {
          this.session.send(TYPE_WINDOW, 0, this.id, this.consumed);
          this.consumed = 0;
        }
        return chunk;
      }
      if (this.error) throw this.error;
      if (this.remoteClosed) return null;
      await new Promise<void>((resolve) => this.readWaiters.push(resolve));
    }
  }

  /** Exactly n bytes, or an error when the stream ends first. */
  async readExactly(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const chunk = await this.read();
      if (!chunk) throw new YamuxError(`stream ${this.id} ended after ${got} of ${n} bytes`);
      const take = Math.min(chunk.length, n - got);
      out.set(chunk.subarray(0, take), got);
      got += take;
      if (take < chunk.length) this.unshift(chunk.subarray(take));
    }
    return out;
  }

  private unshift(chunk: Uint8Array): void {
    this.chunks.unshift(chunk);
    this.buffered += chunk.length;
    this.consumed -= chunk.length;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = await this.read();
      if (!chunk) return;
      yield chunk;
    }
  }

  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.error) throw this.error;
      if (this.localClosed) throw new YamuxError(`stream ${this.id} is closed for writing`);
      if (this.sendWindow <= 0) {
        await new Promise<void>((resolve) => this.windowWaiters.push(resolve));
        continue;
      }
      const n = Math.min(data.length - off, this.sendWindow, MAX_FRAME);
      this.sendWindow -= n;
      this.session.send(TYPE_DATA, 0, this.id, n, data.subarray(off, off + n));
      off += n;
      await this.session.drained();
    }
  }

  /** Half-close: we send no more data (FIN). */
  closeWrite(): void {
    if (this.localClosed || this.error) return;
    this.localClosed = true;
    this.session.send(TYPE_WINDOW, FIN, this.id, 0);
    this.maybeForget();
  }

  reset(): void {
    if (!this.error) this.session.send(TYPE_WINDOW, RST, this.id, 0);
    this.fail(new YamuxError(`stream ${this.id} reset`));
  }

  /** @internal */
  onFrame(type: number, flags: number, length: number, payload: Uint8Array | undefined): void {
    if (type === TYPE_WINDOW) {
      this.sendWindow += length;
      this.wakeWriters();
    } else if (payload && payload.length) {
      this.chunks.push(payload);
      this.buffered += payload.length;
      if (this.buffered > INITIAL_WINDOW + MAX_FRAME) {
        this.session.protocolError(`stream ${this.id} overran its receive window`);
        return;
      }
    }
    if (flags & RST) {
      this.fail(new YamuxError(`stream ${this.id} reset by the plugin`));
      return;
    }
    if (flags & FIN) {
      this.remoteClosed = true;
      this.maybeForget();
    }
    this.wakeReaders();
  }

  /** @internal */
  fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.session.forget(this.id);
    this.wakeReaders();
    this.wakeWriters();
  }

  private maybeForget(): void {
    if (this.localClosed && this.remoteClosed) this.session.forget(this.id);
  }

  private wakeReaders(): void {
    const w = this.readWaiters;
    this.readWaiters = [];
    for (const f of w) f();
  }

  private wakeWriters(): void {
    const w = this.windowWaiters;
    this.windowWaiters = [];
    for (const f of w) f();
  }
}

export class YamuxSession {
  private streams = new Map<number, YamuxStream>();
  private nextId: number;
  private inbox = new Uint8Array(0);
  private closedError: Error | undefined;
  private drainWaiters: Array<() => void> = [];
  private closeListeners: Array<(err: Error) => void> = [];

  constructor(
    private readonly socket: Socket,
    /** Called for each stream the plugin opens. */
    private readonly onStream: (stream: YamuxStream) => void,
    private readonly role: "client" | "server" = "client",
  ) {
    this.nextId = role === "client" ? 1 : 2;
    socket.on("data", (data: Buffer) => this.receive(new Uint8Array(data.buffer, data.byteOffset, data.length)));
    socket.on("drain", () => {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    });
    socket.on("close", () => this.shutdown(new YamuxError("the plugin closed its connection")));
    socket.on("error", (err) => this.shutdown(new YamuxError(`plugin connection: ${err.message}`)));
  }

  get closed(): Error | undefined {
    return this.closedError;
  }

  /** Calls listener when the session ends; returns what stops listening. */
  onClose(listener: (err: Error) => void): () => void {
    if (this.closedError) {
      listener(this.closedError);
      return () => {};
    }
    this.closeListeners.push(listener);
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  open(): YamuxStream {
    if (this.closedError) throw this.closedError;
    const id = this.nextId;
    this.nextId += 2;
    const stream = new YamuxStream(this, id);
    this.streams.set(id, stream);
    this.send(TYPE_WINDOW, SYN, id, 0);
    return stream;
  }

  close(): void {
    if (this.closedError) return;
    try {
      this.send(TYPE_GO_AWAY, 0, 0, 0);
    } catch {
      // already gone
    }
    this.shutdown(new YamuxError("session closed"));
    this.socket.end();
    this.socket.destroy();
  }

  /** @internal */
  send(type: number, flags: number, streamId: number, length: number, payload?: Uint8Array): void {
    if (this.closedError) throw this.closedError;
    const frame = new Uint8Array(HEADER + (payload?.length ?? 0));
    const view = new DataView(frame.buffer);
    view.setUint8(0, VERSION);
    view.setUint8(1, type);
    view.setUint16(2, flags);
    view.setUint32(4, streamId);
    view.setUint32(8, length);
    if (payload) frame.set(payload, HEADER);
    this.socket.write(frame);
  }

  /** Resolves when the socket's write buffer has room again. */
  drained(): Promise<void> {
    if (this.socket.writableLength < 1024 * 1024 || this.closedError) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** @internal */
  protocolError(message: string): void {
    try {
      this.send(TYPE_GO_AWAY, 0, 0, 1);
    } catch {
      // already gone
    }
    this.shutdown(new YamuxError(`yamux protocol error: ${message}`));
    this.socket.destroy();
  }

  private receive(data: Uint8Array): void {
    const buf = this.inbox.length ? concat(this.inbox, data) : data;
    let off = 0;
    while (buf.length - off >= HEADER) {
      const view = new DataView(buf.buffer, buf.byteOffset + off, HEADER);
      const version = view.getUint8(0);
      const type = view.getUint8(1);
      const flags = view.getUint16(2);
      const streamId = view.getUint32(4);
      const length = view.getUint32(8);
      if (version !== VERSION || type > TYPE_GO_AWAY) {
        this.protocolError(`frame version ${version} type ${type}: this is not a yamux session`);
        return;
      }
      let payload: Uint8Array | undefined;
      if (type === TYPE_DATA) {
        if (buf.length - off - HEADER < length) break;
        payload = buf.slice(off + HEADER, off + HEADER + length);
        off += HEADER + length;
      } else {
        off += HEADER;
      }
      this.frame(type, flags, streamId, length, payload);
      if (this.closedError) return;
    }
    this.inbox = buf.slice(off);
  }

  private frame(type: number, flags: number, streamId: number, length: number, payload: Uint8Array | undefined): void {
    if (type === TYPE_PING) {
      if (flags & SYN) this.send(TYPE_PING, ACK, 0, length);
      return;
    }
    if (type === TYPE_GO_AWAY) {
      this.shutdown(new YamuxError(length === 0 ? "the plugin ended the session" : `the plugin ended the session (error ${length})`));
      return;
    }
    let stream = this.streams.get(streamId);
    if (!stream) {
      if (!(flags & SYN)) return; // late frames of a stream already forgotten
      if (streamId % 2 === (this.role === "client" ? 1 : 0)) {
        this.protocolError(`the peer opened stream ${streamId}, an id of the ${this.role}'s`);
        return;
      }
      stream = new YamuxStream(this, streamId);
      this.streams.set(streamId, stream);
      this.send(TYPE_WINDOW, ACK, streamId, 0);
      this.onStream(stream);
    }
    stream.onFrame(type, flags, length, payload);
  }

  private shutdown(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const s of [...this.streams.values()]) s.fail(err);
    this.streams.clear();
    for (const f of this.drainWaiters) f();
    this.drainWaiters = [];
    for (const l of this.closeListeners) l(err);
    this.closeListeners = [];
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
