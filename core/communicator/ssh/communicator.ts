// The SSH Communicator: one connection (reopened on the next call after it drops), commands as
// exec channels, files over SFTP (default) or scp.
import { readFileSync } from "node:fs";
import { keyNeedsPassphrase, passphraseOpens } from "./auth.ts";
import { loadSsh2 } from "./ssh2.ts";
import { expandHome } from "./paths.ts";
import { askSecret, stdinIsTty } from "../../ui/terminal.ts";
import { Tunnels } from "./tunnels.ts";
import { open as openLocal, stat as statLocal } from "node:fs/promises";
import { basename, join } from "node:path";
import type { SFTPWrapper } from "ssh2";
import type { Ui } from "../../ui/types.ts";
import {
  CommunicatorError,
  type CommandResult,
  type Communicator,
  type DownloadTarget,
  type RemoteCommand,
  type UploadOptions,
  type UploadSource,
} from "../types.ts";
import type { SshConfig } from "./config.ts";
import { establish, targetName, type SshConnection } from "./connection.ts";
import { execCommand } from "./exec.ts";
import { HostKeyPolicy } from "./host-key-policy.ts";
import { besideName, moveIntoPlaceScript, partialName, viaPartial } from "../partial-upload.ts";
import { remoteBasename, remoteDirname, remoteJoin, remoteShellPath, sftpPath } from "./paths.ts";
import { scpGet, scpGetTree, scpPut, scpPutTree } from "./scp.ts";
import {
  bytesSource,
  ensureLocalDir,
  fileSource,
  localFileSink,
  sftpGet,
  sftpMkdir,
  sftpMkdirAll,
  sftpPut,
  sftpRemove,
  sftpReplace,
  sftpReason,
  sftpStat,
  walkRemote,
  type ChunkSink,
} from "./sftp.ts";
import { copiesContents, ExcludeMatcher, topLevelName, walkLocal, type TreeEntry } from "./tree.ts";

/** Files of a folder transfer sent at once (each with its own parallel chunks). */
const PARALLEL_FILES = 4;

/** Opens the connection (retrying until ssh_timeout) and returns the communicator. */
export async function connectSsh(given: SshConfig, ui: Ui, signal: AbortSignal): Promise<SshCommunicator> {
  if (!given.host) throw new CommunicatorError("ssh_host is not set", "ssh");
  const config = await unlockPrivateKey(given, ui);
  const target = targetName(config);
  const targetPolicy = new HostKeyPolicy(
    {
      host: config.host,
      port: config.port,
      trustOnFirstUse: config.trustOnFirstUse,
      // Through a bastion or a SOCKS proxy, loopback is theirs: no loopback leniency.
      viaBastion: config.bastion !== undefined || config.proxy !== undefined,
      ...(config.hostKey ? { pin: config.hostKey } : {}),
      ...(config.knownHostsFile ? { knownHostsFile: config.knownHostsFile } : {}),
    },
    ui,
  );
  const problem = targetPolicy.load();
  if (problem) throw new CommunicatorError(problem, target);
  let bastionPolicy: HostKeyPolicy | undefined;
  if (config.bastion) {
    const b = config.bastion;
    bastionPolicy = new HostKeyPolicy(
      {
        host: b.host,
        port: b.port,
        trustOnFirstUse: config.trustOnFirstUse,
        viaBastion: false,
        ...(b.hostKey ? { pin: b.hostKey } : {}),
        ...(config.knownHostsFile ? { knownHostsFile: config.knownHostsFile } : {}),
      },
      ui,
    );
    const bp = bastionPolicy.load();
    if (bp) throw new CommunicatorError(bp, `ssh bastion ${b.host}:${b.port}`);
  }
  const policies = { targetPolicy, ...(bastionPolicy ? { bastionPolicy } : {}) };
  const conn = await establish({ config, ui, signal, firstTime: true, ...policies });
  const comm = new SshCommunicator(config, ui, conn, policies);
  try {
    await comm.startTunnels();
  } catch (err) {
    await comm.close();
    throw new CommunicatorError((err as Error).message, target);
  }
  return comm;
}

/**
 * An ssh_private_key_file protected by a passphrase: with an SSH agent (SSH_AUTH_SOCK) the agent's
 * keys are used, as `ssh` does once `ssh-add` has the key; on a terminal the passphrase is asked
 * once (not echoed); otherwise a clear error says both ways.
 */
async function unlockPrivateKey(config: SshConfig, ui: Ui): Promise<SshConfig> {
  if (config.agentAuth || !config.privateKeyFile || config.privateKeyPassphrase !== undefined) return config;
  const path = expandHome(config.privateKeyFile);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return config; // planAuth reports the unreadable file
  }
  await loadSsh2();
  if (!keyNeedsPassphrase(text)) return config;
  const target = targetName(config);
  if (process.env["SSH_AUTH_SOCK"]) {
    ui.message(`ssh_private_key_file ${path} is protected by a passphrase: authenticating with the SSH agent's keys (SSH_AUTH_SOCK)`);
    return { ...config, agentAuth: true };
  }
  if (!stdinIsTty()) {
    throw new CommunicatorError(
      `ssh_private_key_file ${path} is protected by a passphrase: load it into an SSH agent (ssh-add ${path}) and keep SSH_AUTH_SOCK set, or run imgb on a terminal to be asked for the passphrase`,
      target,
    );
  }
  for (let attempt = 1; attempt <= 3; attempt++) {
    const passphrase = await askSecret(`Enter passphrase for ${path}: `, (s) => process.stderr.write(s));
    if (passphraseOpens(text, passphrase)) return { ...config, privateKeyPassphrase: passphrase };
    ui.error(`Wrong passphrase for ${path}`);
  }
  throw new CommunicatorError(`ssh_private_key_file ${path}: wrong passphrase (3 attempts)`, target);
}

export class SshCommunicator implements Communicator {
  readonly type = "ssh";
  readonly target: string;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private reconnecting: Promise<SshConnection> | undefined;
  private closedByUser = false;
  private readonly tunnels: Tunnels;

  constructor(
    readonly config: SshConfig,
    private readonly ui: Ui,
    private conn: SshConnection,
    private readonly policies: { targetPolicy: HostKeyPolicy; bastionPolicy?: HostKeyPolicy },
  ) {
    this.target = targetName(config);
    this.tunnels = new Tunnels(config.localTunnels ?? [], config.remoteTunnels ?? []);
  }

  /** ssh_local_tunnels / ssh_remote_tunnels, said on the UI as Packer does. */
  async startTunnels(): Promise<void> {
    if (this.tunnels.empty) return;
    for (const t of this.config.localTunnels ?? []) this.ui.message(`Local tunnel ${t.bindAddress}:${t.port} -> ${t.host}:${t.hostPort} on the machine`);
    for (const t of this.config.remoteTunnels ?? []) this.ui.message(`Remote tunnel port ${t.port} on the machine -> ${t.host}:${t.hostPort} here`);
    await this.tunnels.attach(this.conn.client);
  }

  /** The live connection; after a drop, a new one (retrying until ssh_timeout, as after a reboot). */
  private async live(signal: AbortSignal): Promise<SshConnection> {
    if (this.closedByUser) throw new CommunicatorError("the communicator is closed", this.target);
    if (!this.conn.isClosed) return this.conn;
    this.reconnecting ??= establish({ config: this.config, ui: this.ui, signal, firstTime: false, ...this.policies }).finally(
      () => (this.reconnecting = undefined),
    );
    this.conn = await this.reconnecting;
    this.sftpSession = undefined;
    if (!this.tunnels.empty) await this.tunnels.attach(this.conn.client);
    return this.conn;
  }

  private async sftp(signal: AbortSignal): Promise<{ conn: SshConnection; sftp: SFTPWrapper }> {
    const conn = await this.live(signal);
    if (!this.sftpSession) {
      const session = new Promise<SFTPWrapper>((resolve, reject) =>
        conn.client.sftp((err, s) => (err ? reject(new Error(`cannot start the sftp subsystem: ${err.message}`)) : resolve(s))),
      );
      session.catch(() => (this.sftpSession = undefined));
      this.sftpSession = session;
      session.then((s) => s.on("close", () => this.sftpSession === session && (this.sftpSession = undefined))).catch(() => {});
    }
    return { conn, sftp: await this.sftpSession };
  }

  async start(cmd: RemoteCommand, signal: AbortSignal): Promise<CommandResult> {
    const conn = await this.live(signal);
    try {
      return await execCommand(conn, cmd, { pty: this.config.pty }, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new CommunicatorError(`command failed to start: ${(err as Error).message}`, this.target);
    }
  }

  async upload(dest: string, src: UploadSource, opts: UploadOptions, signal: AbortSignal): Promise<void> {
    // "dir/" names a folder: the file keeps its own name there (Packer's file provisioner rule).
    if (dest.endsWith("/")) {
      if (src.kind !== "file") throw new CommunicatorError(`upload to ${dest}: the destination is a folder and the data has no file name`, this.target);
      dest = `${dest}${basename(src.name ?? src.path)}`;
    }
    const what = src.kind === "file" ? `upload ${src.name ?? src.path} to ${dest}` : `upload to ${dest}`;
    await this.guard(what, signal, async () => {
      let size: number;
      let mode: number;
      let mtimeMs = Date.now();
      let close = async (): Promise<void> => {};
      let source;
      if (src.kind === "file") {
        const st = await localStat(src.path);
        if (!st.isFile()) throw new LocalError(`${src.name ?? src.path} is not a regular file`);
        const fh = await openLocal(src.path, "r").catch((e: unknown) => {
          throw new LocalError(`${src.name ?? src.path}: ${errnoText(e)}`);
        });
        close = () => fh.close();
        size = st.size;
        mode = opts.mode ?? st.mode & 0o7777;
        mtimeMs = st.mtimeMs;
        source = fileSource(fh, size);
      } else {
        size = src.data.byteLength;
        mode = opts.mode ?? 0o644;
        source = bytesSource(src.data);
      }
      try {
        // Written beside the destination and renamed into place (core/communicator/partial-upload.ts).
        const dir = remoteDirname(dest);
        const temp = partialName(remoteBasename(dest));
        if (this.config.fileTransferMethod === "scp") {
          const conn = await this.live(signal);
          await viaPartial(
            besideName(dir, temp),
            (t) => untilClosed(conn, scpPut(conn, dir, temp, source, mode, mtimeMs, opts.onProgress, signal, t)),
            (t) => this.runQuiet(conn, moveIntoPlaceScript(remoteShellPath(t), remoteShellPath(dest))),
            (t) => this.runQuiet(conn, `rm -f -- ${remoteShellPath(t)}`),
          );
        } else {
          const { conn, sftp } = await this.sftp(signal);
          await viaPartial(
            sftpPath(besideName(dir, temp)),
            (t) => untilClosed(conn, sftpPut(sftp, t, source, mode, opts.onProgress, signal)),
            (t) => untilClosed(conn, sftpReplace(sftp, t, sftpPath(dest))),
            (t) => untilClosed(conn, sftpRemove(sftp, t)),
          ).catch(async (err: unknown) => {
            // SFTP says "no such file" when the folder is missing: name the folder, as scp does.
            if ((err as { code?: unknown }).code === 2 && !(await sftpStat(sftp, sftpPath(remoteDirname(dest))))) {
              throw new Error(`${remoteDirname(dest)}: no such folder`);
            }
            throw err;
          });
        }
      } finally {
        await close();
      }
    }, dest);
  }

  /**
   * Runs a short housekeeping command (rename or remove a partial upload) even after the transfer
   * was cancelled, for at most 10 s; a non-zero exit is an error naming the command.
   */
  private async runQuiet(conn: SshConnection, command: string): Promise<void> {
    const stderr: Uint8Array[] = [];
    const timeout = AbortSignal.timeout(10_000);
    const r = await execCommand(conn, { command, onStderr: (c) => stderr.push(c) }, { pty: false }, timeout);
    if (r.kind === "disconnected") throw new Error(`connection lost: ${r.reason}`);
    if (r.exitStatus !== 0) throw new Error(`${command}: ${Buffer.concat(stderr).toString("utf8").trim() || `exit status ${r.exitStatus}`}`);
  }

  async uploadDir(dest: string, srcDir: string, exclude: string[], signal: AbortSignal): Promise<void> {
    await this.guard(`upload ${srcDir} to ${dest}`, signal, async () => {
      const root = srcDir.replace(/\/+\.?$/, "") || "/";
      const rootStat = await localStat(root);
      if (!rootStat.isDirectory()) throw new LocalError(`${srcDir} is not a directory`);
      const entries = await walkLocal(root, new ExcludeMatcher(exclude)).catch((e: unknown) => {
        throw new LocalError(errnoText(e));
      });
      const contents = copiesContents(srcDir);
      const top = contents ? null : { name: topLevelName(srcDir), mode: rootStat.mode & 0o7777, mtimeMs: rootStat.mtimeMs };
      if (this.config.fileTransferMethod === "scp") {
        const conn = await this.live(signal);
        await untilClosed(conn, scpPutTree(conn, dest, top, entries, signal));
        return;
      }
      const { conn, sftp } = await this.sftp(signal);
      await untilClosed(conn, this.sftpPutTree(sftp, dest, top, entries, signal));
    });
  }

  private async sftpPutTree(
    sftp: SFTPWrapper,
    dest: string,
    top: { name: string; mode: number; mtimeMs: number } | null,
    entries: TreeEntry[],
    signal: AbortSignal,
  ): Promise<void> {
    const remoteDest = sftpPath(dest);
    await sftpMkdirAll(sftp, remoteDest);
    const base = top ? remoteJoin(remoteDest, top.name) : remoteDest;
    // Folders are made writable first and get their own modes last, so read-only ones can be filled.
    const dirs: Array<{ path: string; mode: number }> = top ? [{ path: base, mode: top.mode }] : [];
    if (top) await sftpMkdir(sftp, base, top.mode | 0o700);
    for (const e of entries) {
      if (e.kind !== "dir") continue;
      const path = remoteJoin(base, e.rel);
      await sftpMkdir(sftp, path, e.mode | 0o700);
      dirs.push({ path, mode: e.mode });
    }
    const files = entries.filter((e) => e.kind === "file");
    await inParallel(files, PARALLEL_FILES, async (e: TreeEntry) => {
      const fh = await openLocal(e.path, "r").catch((err: unknown) => {
        throw new LocalError(`${e.path}: ${errnoText(err)}`);
      });
      try {
        await sftpPut(sftp, remoteJoin(base, e.rel), fileSource(fh, e.size), e.mode, undefined, signal).catch((err: unknown) => {
          throw new Error(`${remoteJoin(base, e.rel)}: ${sftpReason(err)}`);
        });
      } finally {
        await fh.close();
      }
    });
    for (const d of dirs.reverse()) await sftpMkdir(sftp, d.path, d.mode);
  }

  async download(src: string, target: DownloadTarget, signal: AbortSignal): Promise<Uint8Array | null> {
    return await this.guard(`download ${src}`, signal, async () => {
      let bytes: Uint8Array | null = null;
      const sink: ChunkSink & { finish(mode: number): Promise<void>; abort(): Promise<void> } =
        target.kind === "bytes"
          ? {
              begin: async (size) => {
                bytes = new Uint8Array(size);
              },
              write: async (buf, len, pos) => {
                bytes!.set(buf.subarray(0, len), pos);
              },
              finish: async () => {},
              abort: async () => {},
            }
          : await localFileSink(target.path).catch((e: unknown) => {
              throw new LocalError(`${target.path}: ${errnoText(e)}`);
            });
      try {
        let mode: number;
        if (this.config.fileTransferMethod === "scp") {
          const conn = await this.live(signal);
          mode = await untilClosed(conn, scpGet(conn, src, sink, signal));
        } else {
          const { conn, sftp } = await this.sftp(signal);
          mode = await untilClosed(conn, sftpGet(sftp, sftpPath(src), sink, signal));
        }
        await sink.finish(mode);
      } catch (err) {
        await sink.abort();
        throw err;
      }
      return target.kind === "bytes" ? (bytes ?? new Uint8Array(0)) : null;
    }, src);
  }

  async downloadDir(src: string, destDir: string, exclude: string[], signal: AbortSignal): Promise<void> {
    await this.guard(`download ${src} to ${destDir}`, signal, async () => {
      const matcher = new ExcludeMatcher(exclude);
      const contents = copiesContents(src);
      await ensureLocalDir(destDir, 0o755).catch((e: unknown) => {
        throw new LocalError(`${destDir}: ${errnoText(e)}`);
      });
      if (this.config.fileTransferMethod === "scp") {
        const conn = await this.live(signal);
        await untilClosed(conn, scpGetTree(conn, src, destDir, contents, matcher, signal));
        return;
      }
      const { conn, sftp } = await this.sftp(signal);
      await untilClosed(conn, this.sftpGetTree(sftp, src, destDir, contents, matcher, signal));
    });
  }

  private async sftpGetTree(
    sftp: SFTPWrapper,
    src: string,
    destDir: string,
    contents: boolean,
    matcher: ExcludeMatcher,
    signal: AbortSignal,
  ): Promise<void> {
    const root = sftpPath(src.replace(/\/+\.?$/, "") || "/");
    const st = await sftpStat(sftp, root);
    if (!st) throw new Error("no such file or directory");
    if (!st.isDirectory()) throw new Error("is not a directory");
    const entries = await walkRemote(sftp, root, matcher);
    const base = contents ? destDir : join(destDir, basename(root));
    const dirs: Array<{ path: string; mode: number }> = contents ? [] : [{ path: base, mode: st.mode & 0o7777 }];
    await ensureLocalDir(base, 0o700 | (st.mode & 0o7777));
    for (const e of entries) {
      if (e.kind !== "dir") continue;
      const path = join(base, e.rel);
      await ensureLocalDir(path, e.mode | 0o700);
      dirs.push({ path, mode: e.mode });
    }
    await inParallel(
      entries.filter((e) => e.kind === "file"),
      PARALLEL_FILES,
      async (e: TreeEntry) => {
        const sink = await localFileSink(join(base, e.rel));
        try {
          const mode = await sftpGet(sftp, e.path, sink, signal).catch((err: unknown) => {
            throw new Error(`${e.path}: ${sftpReason(err)}`);
          });
          await sink.finish(mode);
        } catch (err) {
          await sink.abort();
          throw err;
        }
      },
    );
    for (const d of dirs.reverse()) await ensureLocalDir(d.path, d.mode);
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    this.tunnels.close();
    this.conn.end();
  }

  /** Turns any failure of `fn` into a CommunicatorError naming the host, the operation and the reason. */
  private async guard<T>(what: string, signal: AbortSignal, fn: () => Promise<T>, remotePath?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof CommunicatorError) throw err;
      let reason: string;
      if (err instanceof LocalError) reason = err.message;
      else if (this.conn.isClosed) reason = `connection lost: ${this.conn.closeReason}`;
      else if ((err as NodeJS.ErrnoException).code && typeof (err as NodeJS.ErrnoException).code === "string") reason = errnoText(err);
      else reason = sftpReason(err);
      // scp repeats the path the message already names.
      if (remotePath && reason.startsWith(`${remotePath}: `)) reason = reason.slice(remotePath.length + 2);
      throw new CommunicatorError(`${what}: ${reason}`, this.target);
    }
  }
}

/**
 * ssh2 leaves SFTP requests pending forever when the connection drops under them: end the wait
 * when the connection closes (the guard then reports "connection lost").
 */
async function untilClosed<T>(conn: SshConnection, op: Promise<T>): Promise<T> {
  let stop!: () => void;
  const dropped = new Promise<never>((_resolve, reject) => {
    stop = () => reject(new Error(`connection lost: ${conn.closeReason}`));
    void conn.closed.then(() => stop());
  });
  op.catch(() => {}); // its late failure, if any, is not news
  return await Promise.race([op, dropped]);
}

/** A problem on this machine's side of a transfer (its message names the local path). */
class LocalError extends Error {}

async function localStat(path: string): Promise<import("node:fs").Stats> {
  try {
    return await statLocal(path);
  } catch (e) {
    throw new LocalError(`${path}: ${errnoText(e)}`);
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "is not a directory",
  ENOSPC: "no space left on device",
};

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && ERRNO_TEXT[err.code]) return ERRNO_TEXT[err.code]!;
  return (err?.message ?? String(e)).replace(/^([A-Z])([a-z])/, (_m, a: string, b: string) => a.toLowerCase() + b);
}

async function inParallel<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  let failed: unknown;
  const lane = async (): Promise<void> => {
    while (failed === undefined && i < items.length) {
      const item = items[i++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, lane));
  if (failed !== undefined) throw failed;
}
