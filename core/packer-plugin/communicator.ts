// The Communicator a plugin's builder hands to the provisioning hook, seen from imgb: every call
// goes over net/rpc to the plugin's CommunicatorServer (packer-plugin-sdk rpc/communicator.go), and
// data travels on broker streams imgb accepts: stdin/stdout/stderr of Start, the reader of Upload,
// the writer of Download; the exit status of Start arrives gob-encoded (rpc.CommandFinished) on
// a response stream. imgb's WASM provisioners use it like any other communicator.
import { basename } from "node:path";
import { stat } from "node:fs/promises";
import type { CommandResult, Communicator, DownloadTarget, RemoteCommand, UploadOptions, UploadSource } from "../communicator/types.ts";
import { CommunicatorError } from "../communicator/types.ts";
import { decodeGob, GobError } from "./gob.ts";
import type { MuxBroker } from "./mux-broker.ts";
import type { RpcClient } from "./rpc.ts";
import type { YamuxStream } from "./yamux.ts";
import { Cancelled } from "../errors/cancelled.ts";

/** Packer's packersdk.CmdDisconnect: the connection dropped before the command's status arrived. */
const CMD_DISCONNECT = 2300218;

export class BridgedCommunicator implements Communicator {
  readonly type: string;
  private readonly target: string;

  constructor(
    private readonly rpc: RpcClient,
    private readonly broker: MuxBroker,
    plugin: string,
  ) {
    this.type = "packer-plugin";
    this.target = `plugin ${plugin}`;
  }

  private fail(err: unknown): never {
    throw new CommunicatorError(err instanceof Error ? err.message : String(err), this.target);
  }

  /** Accept a stream the plugin will dial; rejections are handled by the caller's await. */
  private accepting(id: number): Promise<YamuxStream> {
    const p = this.broker.accept(id, 60_000);
    p.catch(() => undefined);
    return p;
  }

  async start(cmd: RemoteCommand, signal: AbortSignal): Promise<CommandResult> {
    const args = { Command: cmd.command, StdinStreamId: 0, StdoutStreamId: 0, StderrStreamId: 0, ResponseStreamId: 0 };
    const work: Promise<unknown>[] = [];
    if (cmd.stdin) {
      args.StdinStreamId = this.broker.nextId();
      const data = cmd.stdin;
      work.push(this.accepting(args.StdinStreamId).then(async (s) => {
        // A stdin stream (the ansible adapter's sessions) is copied as it arrives.
        if (data instanceof ReadableStream) for await (const chunk of data) await s.write(chunk);
        else await s.write(data);
        s.closeWrite();
      }));
    }
    const pump = (id: number, sink: ((c: Uint8Array) => void) | undefined) =>
      this.accepting(id).then(async (s) => {
        for await (const chunk of s) sink?.(chunk);
      });
    args.StdoutStreamId = this.broker.nextId();
    work.push(pump(args.StdoutStreamId, cmd.onStdout));
    args.StderrStreamId = this.broker.nextId();
    work.push(pump(args.StderrStreamId, cmd.onStderr));
    args.ResponseStreamId = this.broker.nextId();
    const response = this.accepting(args.ResponseStreamId).then(async (s) => {
      const parts: Uint8Array[] = [];
      for await (const chunk of s) parts.push(chunk);
      return Buffer.concat(parts);
    });
    response.catch(() => undefined);
    for (const w of work) w.catch(() => undefined);

    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason ?? new Cancelled("cancelled")), { once: true });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([this.rpc.call("Communicator.Start", args), aborted]);
      const [bytes] = await Promise.race([Promise.all([response, ...work]), aborted]);
      let exit = 0;
      try {
        const [finished] = decodeGob(bytes as Uint8Array) as Array<{ ExitStatus?: number } | undefined>;
        exit = Number(finished?.ExitStatus ?? 0);
      } catch (err) {
        if (err instanceof GobError) return { kind: "disconnected", reason: `the plugin sent no exit status (${err.message})` };
        throw err;
      }
      if (exit === CMD_DISCONNECT) return { kind: "disconnected", reason: "the plugin's connection to the machine dropped" };
      return { kind: "exited", exitStatus: exit };
    } catch (err) {
      if (signal.aborted) throw err;
      this.fail(err);
    }
  }

  async upload(dest: string, src: UploadSource, opts: UploadOptions, signal: AbortSignal): Promise<void> {
    const id = this.broker.nextId();
    let size: number;
    let mode = opts.mode;
    let name: string;
    if (src.kind === "file") {
      const st = await stat(src.path);
      size = st.size;
      mode ??= st.mode & 0o777;
      name = basename(src.path);
    } else {
      size = src.data.length;
      mode ??= 0o644;
      name = basename(dest);
    }
    const feed = this.accepting(id).then(async (s) => {
      let done = 0;
      const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = src.kind === "file" ? Bun.file(src.path).stream() : [src.data];
      for await (const chunk of chunks) {
        if (signal.aborted) {
          s.reset();
          return;
        }
        await s.write(chunk);
        done += chunk.length;
        opts.onProgress?.(done, size);
      }
      s.closeWrite();
    });
    feed.catch(() => undefined);
    try {
      await Promise.all([this.rpc.call("Communicator.Upload", { Path: dest, ReaderStreamId: id, FileInfo: { N: name, S: size, M: mode } }), feed]);
    } catch (err) {
      this.fail(err);
    }
  }

  async uploadDir(dest: string, srcDir: string, exclude: string[]): Promise<void> {
    try {
      await this.rpc.call("Communicator.UploadDir", { Dst: dest, Src: srcDir, Exclude: exclude });
    } catch (err) {
      this.fail(err);
    }
  }

  async download(src: string, target: DownloadTarget): Promise<Uint8Array | null> {
    const id = this.broker.nextId();
    const sink = this.accepting(id).then(async (s) => {
      if (target.kind === "bytes") {
        const parts: Uint8Array[] = [];
        for await (const chunk of s) parts.push(chunk);
        return new Uint8Array(Buffer.concat(parts));
      }
      const writer = Bun.file(target.path).writer();
      for await (const chunk of s) writer.write(chunk);
      await writer.end();
      return null;
    });
    sink.catch(() => undefined);
    try {
      const [, data] = await Promise.all([this.rpc.call("Communicator.Download", { Path: src, WriterStreamId: id }), sink]);
      return data;
    } catch (err) {
      this.fail(err);
    }
  }

  async downloadDir(src: string, destDir: string, exclude: string[]): Promise<void> {
    try {
      await this.rpc.call("Communicator.DownloadDir", { Dst: destDir, Src: src, Exclude: exclude });
    } catch (err) {
      this.fail(err);
    }
  }

  async close(): Promise<void> {
    this.rpc.close();
  }
}
