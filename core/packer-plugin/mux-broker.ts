// Packer's muxBroker (packer-plugin-sdk rpc/mux_broker.go): streams on the yamux session are named
// by a uint32 the accepting side picked. The dialer writes the id (little-endian) on a new stream
// and waits for the same id back as the acceptor's ack. Each side hands out its own ids from
// NextId, so the ids this side accepts never collide with the ones the plugin accepts.
import { YamuxError, YamuxSession, type YamuxStream } from "./yamux.ts";

/** How long an announced stream waits to be accepted, and an accept waits for its dial (as Packer: 5 s). */
const PENDING_TIMEOUT_MS = 5000;

export class MuxBroker {
  private lastId = 0;
  private arrived = new Map<number, YamuxStream>();
  private waiting = new Map<number, (s: YamuxStream) => void>();

  readonly session: YamuxSession;

  constructor(socket: ConstructorParameters<typeof YamuxSession>[0], role: "client" | "server" = "client") {
    this.session = new YamuxSession(socket, (stream) => void this.announced(stream), role);
  }

  nextId(): number {
    this.lastId = (this.lastId + 1) >>> 0;
    return this.lastId;
  }

  async dial(id: number): Promise<YamuxStream> {
    const stream = this.session.open();
    await stream.write(le32(id));
    const ack = new DataView((await stream.readExactly(4)).buffer).getUint32(0, true);
    if (ack !== id) {
      stream.reset();
      throw new YamuxError(`bad ack ${ack} for stream ${id}`);
    }
    return stream;
  }

  /** The stream the plugin dials with this id; acks it. */
  async accept(id: number, timeoutMs = PENDING_TIMEOUT_MS): Promise<YamuxStream> {
    let stream = this.arrived.get(id);
    if (stream) this.arrived.delete(id);
    else {
      stream = await new Promise<YamuxStream>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiting.delete(id);
          unlisten();
          reject(new YamuxError(`timeout waiting for the plugin to connect stream ${id}`));
        }, timeoutMs);
        const unlisten = this.session.onClose((err) => {
          clearTimeout(timer);
          reject(err);
        });
        this.waiting.set(id, (s) => {
          clearTimeout(timer);
          unlisten();
          resolve(s);
        });
      });
    }
    await stream.write(le32(id));
    return stream;
  }

  close(): void {
    this.session.close();
  }

  private async announced(stream: YamuxStream): Promise<void> {
    let id: number;
    try {
      id = new DataView((await stream.readExactly(4)).buffer).getUint32(0, true);
    } catch {
      return;
    }
    const waiter = this.waiting.get(id);
    if (waiter) {
      this.waiting.delete(id);
      waiter(stream);
      return;
    }
    this.arrived.set(id, stream);
    setTimeout(() => {
      if (this.arrived.get(id) === stream) {
        this.arrived.delete(id);
        stream.reset();
      }
    }, PENDING_TIMEOUT_MS).unref?.();
  }
}

function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
