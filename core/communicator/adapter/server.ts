// The communicator adapter (Packer's provisioner/ansible adapter): an SSH server on loopback that
// forwards every exec session to the build's communicator and serves SFTP over it, so a local SSH
// client (ansible-playbook) reaches any machine imgb can reach (SSH, podman, local, chroot). It
// accepts only the throwaway client key it generated, and on close it ends every connection (an
// ssh ControlMaster left behind would otherwise outlive the build) and stops every forwarded command.
import type { Connection, ParsedKey, ServerChannel } from "ssh2";
import { loadSsh2, ssh2 } from "../ssh/ssh2.ts";
import { timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Communicator } from "../types.ts";
import { serveSftp } from "./sftp.ts";

export interface AdapterOptions {
  /** 0 = any free port. */
  port: number;
  /** Reported for every forwarded command (Packer prints the same lines). */
  log?: (line: string) => void;
}

export interface Adapter {
  readonly port: number;
  /** `ssh-ed25519 AAAA…`, for a known_hosts line. */
  readonly hostPublicKey: string;
  /** OpenSSH private key ansible authenticates with. */
  readonly clientPrivateKey: string;
  close(): Promise<void>;
}

function publicLine(key: ParsedKey): string {
  return `${key.type} ${key.getPublicSSH().toString("base64")}`;
}

function parsed(text: string): ParsedKey {
  const k = ssh2().utils.parseKey(text);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? k[0]! : k;
}

/** Starts an adapter on 127.0.0.1 bound to `comm`; commands stop when it closes or `signal` aborts. */
export async function startAdapter(comm: Communicator, opts: AdapterOptions, signal: AbortSignal): Promise<Adapter> {
  const { Server, utils } = await loadSsh2();
  const host = utils.generateKeyPairSync("ed25519");
  const client = utils.generateKeyPairSync("ed25519");
  const allowed = parsed(client.public);
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const connections = new Set<Connection>();

  const server = new Server({ hostKeys: [host.private] }, (conn) => {
    connections.add(conn);
    conn.on("close", () => connections.delete(conn));
    conn.on("error", () => connections.delete(conn));
    conn.on("authentication", (ctx) => {
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const same =
        ctx.key.algo === allowed.type &&
        ctx.key.data.length === allowed.getPublicSSH().length &&
        timingSafeEqual(ctx.key.data, allowed.getPublicSSH());
      if (!same) return ctx.reject(["publickey"]);
      if (!ctx.signature || !ctx.blob) return ctx.accept(); // a key offer: the signed attempt follows
      if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) ctx.accept();
      else ctx.reject(["publickey"]);
    });
    conn.on("ready", () => {
      conn.on("session", (acceptSession) => {
        const session = acceptSession();
        // ansible asks for a pty with become (-tt) and sets locale variables: Packer's adapter
        // accepts and ignores both, and so does this one (output stays free of CR/LF rewriting).
        session.on("pty", (accept) => accept?.());
        session.on("env", (accept) => accept?.());
        session.on("window-change", (accept) => accept?.());
        session.on("signal", (accept) => accept?.());
        session.on("exec", (accept, _reject, info) => {
          const channel = accept();
          opts.log?.(`adapter: exec ${info.command}`);
          void forwardExec(comm, info.command, channel, stop.signal);
        });
        session.on("sftp", (accept) => serveSftp(accept(), comm, stop.signal));
        session.on("subsystem", (_accept, reject) => reject());
        session.on("shell", (_accept, reject) => reject());
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port,
    hostPublicKey: publicLine(parsed(host.public)),
    clientPrivateKey: client.private,
    close() {
      closed ??= (async () => {
        signal.removeEventListener("abort", onAbort);
        stop.abort(new Error("the adapter closed"));
        for (const c of connections) c.end();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closed;
    },
  };
}

/** One exec request: the command runs through the communicator with the channel as its stdio. */
async function forwardExec(comm: Communicator, command: string, channel: ServerChannel, signal: AbortSignal): Promise<void> {
  // The stream may be cancelled by its consumer (the command exited, Bun stopped reading) before
  // the client's EOF: from then on data and EOF are dropped.
  let open = true;
  const closeStdin = (controller?: ReadableStreamDefaultController<Uint8Array>): void => {
    if (!open) return;
    open = false;
    try {
      controller?.close();
    } catch {
      // Already closed by the consumer.
    }
  };
  let ctl: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stdin = new ReadableStream<Uint8Array>({
    start(controller) {
      ctl = controller;
      channel.on("data", (c: Buffer) => {
        if (!open) return;
        try {
          controller.enqueue(new Uint8Array(c));
        } catch {
          open = false;
        }
      });
      channel.on("end", () => closeStdin(controller));
      channel.on("close", () => closeStdin(controller));
    },
    cancel() {
      open = false;
    },
  });
  try {
    const r = await comm.start(
      { command, stdin, onStdout: (c) => channel.write(c), onStderr: (c) => channel.stderr.write(c) },
      signal,
    );
    if (r.kind === "exited") channel.exit(r.exitStatus);
    else channel.stderr.write(`imgb adapter: ${r.reason}\n`);
  } catch (e) {
    if (!channel.destroyed) channel.stderr.write(`imgb adapter: ${(e as Error).message}\n`);
  } finally {
    closeStdin(ctl);
    if (!channel.destroyed) {
      channel.end();
      channel.close();
    }
  }
}
