// A QMP client (QEMU Machine Protocol, docs/interop/qmp-spec): JSON objects over the unix socket the
// VM listens on in the build's work folder. Commands are answered in order with "return" or "error";
// "event" objects come in between and are ignored. Used to type the boot command (input-send-event)
// and to set the VNC password.
import type { Socket } from "bun";
import * as v from "valibot";
import type { KeyEventSink } from "../common/boot-command.ts";
import { Cancelled } from "../../errors/cancelled.ts";

const Reply = v.union([
  v.object({ return: v.unknown() }),
  v.object({ error: v.object({ class: v.string(), desc: v.string() }) }),
  v.object({ event: v.string() }),
  v.object({ QMP: v.unknown() }),
]);

export class QmpClient implements KeyEventSink {
  private buf = "";
  private waiting: Array<{ ok: (v: unknown) => void; fail: (e: Error) => void }> = [];
  private greeted!: Promise<void>;
  private closed = false;

  private constructor(private socket: Socket<undefined> | undefined) {}

  /** Connects (retrying while qemu creates the socket) and negotiates capabilities. */
  static async connect(path: string, signal: AbortSignal, timeoutMs = 10_000): Promise<QmpClient> {
    const client = new QmpClient(undefined);
    let greet!: () => void;
    client.greeted = new Promise<void>((r) => (greet = r));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (signal.aborted) throw new Cancelled("cancelled");
      try {
        client.socket = await Bun.connect({
          unix: path,
          socket: {
            data: (_s, chunk) => client.onData(chunk.toString("utf8"), greet),
            close: () => client.onClose(),
            error: () => client.onClose(),
          },
        });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`cannot reach qemu's QMP socket ${path}: ${err instanceof Error ? err.message : String(err)}`);
        await Bun.sleep(100);
      }
    }
    await client.greeted;
    await client.execute("qmp_capabilities");
    return client;
  }

  private onData(text: string, greet: () => void) {
    this.buf += text;
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      const parsed = v.safeParse(Reply, JSON.parse(line));
      if (!parsed.success) continue;
      const msg = parsed.output;
      if ("QMP" in msg) greet();
      else if ("event" in msg) continue;
      else if ("return" in msg) this.waiting.shift()?.ok(msg.return);
      else this.waiting.shift()?.fail(new Error(`QMP: ${msg.error.desc}`));
    }
  }

  private onClose() {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.fail(new Error("QMP: qemu closed the connection (the VM stopped)"));
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closed || !this.socket) return Promise.reject(new Error("QMP: not connected (the VM stopped)"));
    return new Promise((ok, fail) => {
      this.waiting.push({ ok, fail });
      this.socket!.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  async key(qcode: string, down: boolean): Promise<void> {
    await this.execute("input-send-event", { events: [{ type: "key", data: { down, key: { type: "qcode", data: qcode } } }] });
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
  }
}
