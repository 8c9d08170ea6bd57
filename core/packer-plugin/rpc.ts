// Go's net/rpc over one broker stream, with the codec Packer's rpc package uses:
// github.com/ugorji/go/codec GoRpc with a MsgpackHandle (RawToString, WriteExt). A request is the
// msgpack of rpc.Request {ServiceMethod, Seq} followed by the msgpack of the argument; a response
// is rpc.Response {ServiceMethod, Seq, Error} followed by the reply. Calls may be outstanding
// together; replies are matched by Seq. Structs travel as maps keyed by Go field names.
import type { Encoder } from "@msgpack/msgpack";
import { msgpack } from "./msgpack.ts";
import type { YamuxStream } from "./yamux.ts";

export class RpcError extends Error {
  constructor(
    message: string,
    readonly method: string,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

let encoder: Encoder | undefined;
const decoderOptions = { useBigInt64: false } as const;

function frame(header: unknown, body: unknown): Uint8Array {
  encoder ??= new (msgpack().Encoder)({ ignoreUndefined: false });
  const a = encoder.encode(header);
  const b = encoder.encode(body ?? null);
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const asRecord = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** A reply or argument struct as an object (msgpack maps may decode to Map). */
export function asObject(v: unknown): Record<string, unknown> {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), x]));
  return v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : {};
}

export class RpcClient {
  private seq = 0;
  private pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  private writeChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly stream: YamuxStream,
    /** Prefix of error messages: which plugin this is. */
    private readonly peer: string,
  ) {
    void this.readLoop();
  }

  call<T = unknown>(method: string, arg: unknown): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.seq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { method, resolve: resolve as (v: unknown) => void, reject });
      const data = frame({ ServiceMethod: method, Seq: seq }, arg);
      this.writeChain = this.writeChain.then(() => this.stream.write(data)).catch((err: Error) => this.fail(err));
    });
  }

  close(): void {
    this.stream.closeWrite();
  }

  private async readLoop(): Promise<void> {
    try {
      let header: Record<string, unknown> | undefined;
      for await (const item of new (msgpack().Decoder)(decoderOptions).decodeStream(this.stream)) {
        if (!header) {
          header = asRecord(item);
          continue;
        }
        const seq = Number(header.Seq);
        const error = typeof header.Error === "string" ? header.Error : "";
        const call = this.pending.get(seq);
        this.pending.delete(seq);
        header = undefined;
        if (!call) continue;
        if (error) call.reject(new RpcError(error, call.method));
        else call.resolve(item);
      }
      this.fail(new RpcError(`${this.peer}: connection closed`, ""));
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err instanceof RpcError ? err : new RpcError(`${this.peer}: ${err.message}`, "");
    for (const c of this.pending.values()) c.reject(new RpcError(`${this.failure.message} (during ${c.method})`, c.method));
    this.pending.clear();
  }
}

/** A method served to the plugin: returns the reply, or throws to send an error string. */
export type RpcHandler = (arg: unknown) => Promise<unknown> | unknown;

/** Serves requests on one stream; each request runs concurrently, as net/rpc's ServeCodec does. */
export async function serveRpc(stream: YamuxStream, handlers: Record<string, RpcHandler>): Promise<void> {
  let writeChain: Promise<void> = Promise.resolve();
  const respond = (method: string, seq: unknown, error: string, body: unknown) => {
    const data = frame({ ServiceMethod: method, Seq: seq, Error: error }, error ? null : body);
    writeChain = writeChain.then(() => stream.write(data)).catch(() => undefined);
  };
  let header: Record<string, unknown> | undefined;
  try {
    for await (const item of new (msgpack().Decoder)(decoderOptions).decodeStream(stream)) {
      if (!header) {
        header = asRecord(item);
        continue;
      }
      const method = String(header.ServiceMethod ?? "");
      const seq = header.Seq;
      header = undefined;
      const handler = handlers[method];
      if (!handler) {
        respond(method, seq, `rpc: can't find method ${method}`, null);
        continue;
      }
      void (async () => {
        try {
          respond(method, seq, "", await handler(item));
        } catch (err) {
          respond(method, seq, err instanceof Error ? err.message : String(err), null);
        }
      })();
    }
  } catch {
    // The stream failed: the session's own error reaches the calls waiting on it.
  }
  await writeChain;
  stream.closeWrite();
}
