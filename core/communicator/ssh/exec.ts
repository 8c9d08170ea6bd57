// Runs one remote command on a connection: live stdout/stderr, the exit status, or "disconnected"
// when the connection (or the channel) ends without one (Packer's 2300218).
import type { ClientChannel, PseudoTtyOptions } from "ssh2";
import type { CommandResult, RemoteCommand } from "../types.ts";
import type { SshConnection } from "./connection.ts";

// Signal numbers for the 128+N status Go's x/crypto/ssh (and so Packer) reports for a signalled command.
const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, ABRT: 6, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15, USR1: 10, USR2: 12,
};

/** How long an aborted command has between the TERM and the KILL signal requests. */
const ABORT_GRACE_MS = 2000;

export interface ExecOptions {
  pty: boolean;
}

export async function execCommand(
  conn: SshConnection,
  cmd: RemoteCommand,
  opts: ExecOptions,
  signal: AbortSignal,
): Promise<CommandResult> {
  signal.throwIfAborted();
  const opened = await openExec(conn, cmd.command, opts);
  if (typeof opened === "string") return { kind: "disconnected", reason: opened };
  const { channel, exit } = opened;

  return await new Promise<CommandResult>((resolve, reject) => {
    const status = (): number | undefined =>
      exit.code ?? (exit.signal !== undefined ? 128 + (SIGNALS[exit.signal] ?? 0) : undefined);
    let done = false;
    let aborting = false;
    const finish = (r: CommandResult | { error: unknown }): void => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      if ("error" in r) reject(r.error);
      else resolve(r);
    };
    const onAbort = (): void => {
      // Ask the remote side to stop the command: TERM first (sudo relays it to the command it runs,
      // a script's trap can clean up), KILL to the whole process group after a grace, then drop the
      // channel. OpenSSH delivers both with killpg() to the session's process group.
      aborting = true;
      sendSignal(channel, "TERM");
      const stop = (): void => {
        clearTimeout(grace);
        sendSignal(channel, "KILL");
        channel.close();
        finish({ error: signal.reason });
      };
      const grace = setTimeout(stop, ABORT_GRACE_MS);
      channel.once("close", stop);
    };
    signal.addEventListener("abort", onAbort, { once: true });

    channel.on("data", (chunk: Buffer) => cmd.onStdout?.(chunk));
    channel.stderr.on("data", (chunk: Buffer) => cmd.onStderr?.(chunk));
    channel.on("close", () => {
      if (aborting) return; // the abort finishes the call, with its reason
      const st = status();
      if (st !== undefined) return finish({ kind: "exited", exitStatus: st });
      // A channel closing without a status is usually the connection going away: give the drop
      // a moment to be noticed, so the reason is the real one.
      const timer = setTimeout(() => {
        finish({
          kind: "disconnected",
          reason: conn.isClosed ? conn.closeReason : "the command ended without an exit status",
        });
      }, 250);
      void conn.closed.then(() => clearTimeout(timer));
    });
    void conn.closed.then((reason) => {
      if (aborting) return finish({ error: signal.reason });
      const st = status();
      if (st !== undefined) finish({ kind: "exited", exitStatus: st });
      else finish({ kind: "disconnected", reason });
    });
    if (cmd.stdin && cmd.stdin.length) channel.end(Buffer.from(cmd.stdin.buffer, cmd.stdin.byteOffset, cmd.stdin.byteLength));
    else channel.end();
  });
}

/** How a channel's command ended, recorded from the moment the channel exists. */
export interface ExitInfo {
  code?: number;
  signal?: string;
}

export interface OpenedChannel {
  channel: ClientChannel;
  exit: ExitInfo;
}

/**
 * Opens an exec channel; the reason as a string when the connection is gone. The exit listener is
 * attached inside ssh2's callback, synchronously: ssh2 may parse the exit-status packet in the same
 * tick as the exec reply, and "exit" is a plain event, lost if nobody listens yet.
 */
export function openExec(conn: SshConnection, command: string, opts: ExecOptions): Promise<OpenedChannel | string> {
  if (conn.isClosed) return Promise.resolve(conn.closeReason);
  return new Promise((resolve, reject) => {
    const pty: PseudoTtyOptions | undefined = opts.pty ? { term: "xterm", cols: 80, rows: 24 } : undefined;
    const cb = (err: Error | undefined, channel: ClientChannel): void => {
      if (err) {
        if (conn.isClosed) return resolve(conn.closeReason);
        return reject(err);
      }
      const exit: ExitInfo = {};
      channel.on("exit", (code: number | null, signalName?: string) => {
        if (typeof code === "number") exit.code = code;
        else if (signalName) exit.signal = signalName.replace(/^SIG/, "");
      });
      resolve({ channel, exit });
    };
    try {
      if (pty) conn.client.exec(command, { pty }, cb);
      else conn.client.exec(command, cb);
    } catch (err) {
      if (conn.isClosed) resolve(conn.closeReason);
      else reject(err);
    }
  });
}

/**
 * ssh2's ClientChannel.signal() is silently skipped once stdin is closed (it checks `writable`),
 * and stdin is always closed here; a "signal" request is valid for the whole life of the channel
 * (RFC 4254 6.9), so send it through the protocol object directly. The one place that reaches
 * into ssh2's internals.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const internals = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, sig: string) => void } };
  };
  const id = internals.outgoing?.id;
  const protocol = internals._client?._protocol;
  if (id === undefined || !["open", "eof"].includes(internals.outgoing?.state ?? "") || typeof protocol?.signal !== "function") return;
  try {
    protocol.signal(id, name);
  } catch {
    // an older server may refuse signals; closing the channel still ends our side
  }
}
