// File transfers with the scp protocol, spoken over an exec channel to the remote `scp -t` (sink,
// for uploads) or `scp -f` (source, for downloads), as Packer does. `-p` carries modes and times.
// Records: "T<mtime> 0 <atime> 0", "C<mode> <size> <name>", "D<mode> 0 <name>", "E"; each answered
// by a status byte: 0 ok, 1 warning + message line, 2 fatal + message line.
import { open as openLocal } from "node:fs/promises";
import { join } from "node:path";
import type { ClientChannel } from "ssh2";
import { ByteReader } from "./byte-reader.ts";
import type { SshConnection } from "./connection.ts";
import { openExec, type ExitInfo } from "./exec.ts";
import { remoteShellPath } from "./paths.ts";
import { ensureLocalDir, localFileSink, type ChunkSink, type ChunkSource } from "./sftp.ts";
import type { ExcludeMatcher, TreeEntry } from "./tree.ts";

const CHUNK = 256 * 1024;

/** "scp: /x: Permission denied" → "/x: permission denied" (the path stays as it is). */
function scpMessage(text: string): string {
  return text
    .trim()
    .replace(/^scp: /, "")
    .replace(/(^|: )([A-Z])([a-z][a-z ]*)$/, (_m, sep: string, first: string, rest: string) => `${sep}${first.toLowerCase()}${rest}`);
}

/** An scp session: the channel, a reader over its stdout, and its stderr text for error messages. */
class ScpSession {
  readonly reader: ByteReader;
  private stderr = "";
  private readonly exited: Promise<void>;

  constructor(
    readonly channel: ClientChannel,
    private readonly exit: ExitInfo,
    private readonly conn: SshConnection,
  ) {
    this.reader = new ByteReader(channel);
    channel.stderr.on("data", (d: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += d.toString("utf8");
    });
    this.exited = new Promise((resolve) => channel.on("close", () => resolve()));
    this.reader.endedEarly = () => new Error(this.failureText("the remote scp ended early"));
  }

  failureText(fallback: string): string {
    if (this.conn.isClosed) return `connection lost: ${this.conn.closeReason}`;
    const msg = this.stderr.trim().split("\n").pop();
    return msg ? scpMessage(msg) : fallback;
  }

  async ack(): Promise<void> {
    const b = await this.reader.byte();
    if (b === 0) return;
    const msg = scpMessage(await this.reader.line());
    if (b === 1 || b === 2) throw new Error(msg || "the remote scp refused");
    throw new Error(`unexpected scp reply byte ${b}`);
  }

  async send(data: string | Buffer): Promise<void> {
    if (!this.channel.write(data)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          cleanup();
          resolve();
        };
        const onClose = (): void => {
          cleanup();
          reject(new Error(this.failureText("the channel closed")));
        };
        const cleanup = (): void => {
          this.channel.off("drain", onDrain);
          this.channel.off("close", onClose);
        };
        this.channel.on("drain", onDrain);
        this.channel.on("close", onClose);
      });
    }
  }

  /** Runs the protocol, then `finish`es; on failure closes the channel so the remote scp ends too. */
  async run<T>(body: () => Promise<T>): Promise<T> {
    try {
      const r = await body();
      await this.finish();
      return r;
    } catch (err) {
      this.channel.close();
      throw err;
    }
  }

  /** Closes stdin and waits for the remote scp to exit; non-zero is an error. */
  async finish(): Promise<void> {
    this.channel.end();
    await this.exited;
    if (this.exit.code !== 0) {
      throw new Error(this.failureText(`the remote scp exited with status ${this.exit.code ?? this.exit.signal ?? "unknown"}`));
    }
  }
}

async function openScp(conn: SshConnection, command: string, signal: AbortSignal): Promise<ScpSession> {
  const opened = await openExec(conn, command, { pty: false });
  if (typeof opened === "string") throw new Error(`connection lost: ${opened}`);
  const s = new ScpSession(opened.channel, opened.exit, conn);
  signal.addEventListener("abort", () => opened.channel.close(), { once: true });
  return s;
}

const modeText = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0");
const secs = (ms: number): number => Math.floor(ms / 1000);

async function sendFileRecord(
  s: ScpSession,
  name: string,
  mode: number,
  mtimeMs: number,
  src: ChunkSource,
  onProgress: ((done: number, total: number) => void) | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (name.includes("\n") || name.includes("/")) throw new Error(`cannot send a file named ${JSON.stringify(name)} with scp`);
  await s.send(`T${secs(mtimeMs)} 0 ${secs(mtimeMs)} 0\n`);
  await s.ack();
  await s.send(`C${modeText(mode)} ${src.size} ${name}\n`);
  await s.ack();
  let pos = 0;
  while (pos < src.size) {
    signal.throwIfAborted();
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, src.size - pos));
    const n = await src.read(buf, pos);
    if (n === 0) throw new Error("the source file shrank during the upload");
    await s.send(n === buf.length ? buf : buf.subarray(0, n));
    pos += n;
    onProgress?.(pos, src.size);
  }
  if (src.size === 0) onProgress?.(0, 0);
  await s.send(Buffer.from([0]));
  await s.ack();
}

export async function scpPut(
  conn: SshConnection,
  destDir: string,
  name: string,
  src: ChunkSource,
  mode: number,
  mtimeMs: number,
  onProgress: ((done: number, total: number) => void) | undefined,
  signal: AbortSignal,
  /** A path the remote side removes itself if the transfer fails or is stopped (a partial upload). */
  removeOnFailure?: string,
): Promise<void> {
  // `scp -t` into a path that is not a folder writes the file *as* that path (Packer's scp turns
  // "dir/missing/" into a file named "missing"); refuse instead, with an scp protocol error (\1).
  const q = remoteShellPath(destDir);
  const refuse = `printf '\\001scp: %s: no such folder\\n' ${q}`;
  // When the connection drops or the session is signalled, imgb may not get to clean up: the remote
  // shell removes the partial file itself.
  const command = removeOnFailure
    ? `t=${remoteShellPath(removeOnFailure)}; trap 'rm -f -- "$t"; exit 1' HUP INT TERM PIPE; if test -d ${q}; then scp -pt -- ${q} || { rm -f -- "$t"; exit 1; }; else ${refuse}; fi`
    : `test -d ${q} && exec scp -pt -- ${q}; ${refuse}`;
  const s = await openScp(conn, command, signal);
  await s.run(async () => {
    await s.ack();
    await sendFileRecord(s, name, mode, mtimeMs, src, onProgress, signal);
  });
}

/**
 * Sends a tree (entries parents-before-children, as walkLocal returns them) into `dest`, which is
 * created first. `top` wraps everything in one more folder (the "src" without slash case).
 */
export async function scpPutTree(
  conn: SshConnection,
  dest: string,
  top: { name: string; mode: number; mtimeMs: number } | null,
  entries: TreeEntry[],
  signal: AbortSignal,
): Promise<void> {
  const q = remoteShellPath(dest);
  const s = await openScp(conn, `mkdir -p -- ${q} && scp -rpt -- ${q}`, signal);
  await s.run(async () => {
    await s.ack();
    const open: string[] = []; // rel paths of the folders we are inside
    const enterDir = async (name: string, mode: number, mtimeMs: number): Promise<void> => {
      await s.send(`T${secs(mtimeMs)} 0 ${secs(mtimeMs)} 0\n`);
      await s.ack();
      await s.send(`D${modeText(mode)} 0 ${name}\n`);
      await s.ack();
    };
    const leaveDir = async (): Promise<void> => {
      await s.send("E\n");
      await s.ack();
    };
    if (top) await enterDir(top.name, top.mode, top.mtimeMs);
    for (const e of entries) {
      signal.throwIfAborted();
      const parent = e.rel.includes("/") ? e.rel.slice(0, e.rel.lastIndexOf("/")) : "";
      while (open.length && open[open.length - 1] !== parent) {
        open.pop();
        await leaveDir();
      }
      const name = e.rel.slice(e.rel.lastIndexOf("/") + 1);
      if (e.kind === "dir") {
        await enterDir(name, e.mode, e.mtimeMs);
        open.push(e.rel);
      } else {
        const fh = await openLocal(e.path, "r");
        try {
          await sendFileRecord(
            s,
            name,
            e.mode,
            e.mtimeMs,
            { size: e.size, read: async (buf, pos) => (await fh.read(buf, 0, buf.length, pos)).bytesRead },
            undefined,
            signal,
          );
        } catch (err) {
          throw Object.assign(err as Error, { path: e.path });
        } finally {
          await fh.close();
        }
      }
    }
    while (open.length) {
      open.pop();
      await leaveDir();
    }
    if (top) await leaveDir();
  });
}

interface FileRecord {
  mode: number;
  size: number;
  name: string;
}

function parseRecord(line: string): FileRecord {
  const m = /^[CD]([0-7]{4}) (\d+) (.+)$/.exec(line);
  if (!m) throw new Error(`malformed scp record ${JSON.stringify(line.slice(0, 80))}`);
  const name = m[3]!;
  // A source may not make us write outside the target folder.
  if (name === "." || name === ".." || name.includes("/")) throw new Error(`refusing scp file name ${JSON.stringify(name)}`);
  return { mode: parseInt(m[1]!, 8), size: Number(m[2]), name };
}

/** Downloads one remote file into `sink`; returns its mode. */
export async function scpGet(conn: SshConnection, src: string, sink: ChunkSink, signal: AbortSignal): Promise<number> {
  const s = await openScp(conn, `scp -pf -- ${remoteShellPath(src)}`, signal);
  let mode: number | undefined;
  await s.run(async () => {
    await s.send(Buffer.from([0]));
    for (;;) {
      const kind = await s.reader.byte().catch((err: Error) => {
        if (mode !== undefined) return -1;
        throw err;
      });
      if (kind === -1) break;
      const line = String.fromCharCode(kind) + (await s.reader.line());
      if (kind === 1 || kind === 2) throw new Error(scpMessage(line.slice(1)));
      if (kind === 0x54 /* T */) {
        await s.send(Buffer.from([0]));
        continue;
      }
      if (kind === 0x44 /* D */) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      if (kind !== 0x43 /* C */) throw new Error(`unexpected scp record ${JSON.stringify(line.slice(0, 80))}`);
      const rec = parseRecord(line);
      await s.send(Buffer.from([0]));
      await sink.begin(rec.size);
      let pos = 0;
      await s.reader.exactly(rec.size, async (chunk) => {
        signal.throwIfAborted();
        await sink.write(chunk, chunk.length, pos);
        pos += chunk.length;
      });
      await s.ack();
      await s.send(Buffer.from([0]));
      mode = rec.mode;
      break;
    }
  });
  return mode ?? 0o644;
}

/**
 * Downloads a remote folder into `destDir`. `contentsOnly` ("src/"): the top folder's contents go
 * straight into destDir; otherwise into destDir/<name>. Excluded paths are received and dropped.
 */
export async function scpGetTree(
  conn: SshConnection,
  src: string,
  destDir: string,
  contentsOnly: boolean,
  exclude: ExcludeMatcher,
  signal: AbortSignal,
): Promise<void> {
  const s = await openScp(conn, `scp -rpf -- ${remoteShellPath(src.replace(/\/+$/, "") || "/")}`, signal);
  const dirModes: Array<{ path: string; mode: number }> = [];
  await s.run(async () => {
    await s.send(Buffer.from([0]));
    // Stack of (relative path, local path or null when excluded); depth 0 is the top folder.
    const stack: Array<{ rel: string; local: string | null; mode: number }> = [];
    const ok = (): Promise<void> => s.send(Buffer.from([0]));
    for (;;) {
      let kind: number;
      try {
        kind = await s.reader.byte();
      } catch (err) {
        if (s.reader.done && stack.length === 0) break;
        throw err;
      }
      const line = String.fromCharCode(kind) + (await s.reader.line());
      if (kind === 1 || kind === 2) throw new Error(scpMessage(line.slice(1)));
      if (kind === 0x54 /* T */) {
        await ok();
        continue;
      }
      if (kind === 0x45 /* E */) {
        stack.pop();
        await ok();
        if (stack.length === 0) break;
        continue;
      }
      const rec = parseRecord(line);
      if (stack.length === 0 && kind !== 0x44) throw Object.assign(new Error("is not a directory"), { code: "ENOTDIR" });
      const parent = stack[stack.length - 1];
      const rel = parent ? (parent.rel ? `${parent.rel}/${rec.name}` : rec.name) : "";
      const parentLocal = parent ? parent.local : null;
      let local: string | null;
      if (!parent) local = contentsOnly ? destDir : join(destDir, rec.name);
      else local = parentLocal === null || exclude.excluded(rel) ? null : join(parentLocal, rec.name);

      if (kind === 0x44 /* D */) {
        if (local) {
          await ensureLocalDir(local, 0o700);
          // Modes are applied after the folder is filled, so a read-only folder can still be written.
          if (!(parent === undefined && contentsOnly)) dirModes.push({ path: local, mode: rec.mode });
        }
        stack.push({ rel, local, mode: rec.mode });
        await ok();
        continue;
      }
      // C: a file
      await ok();
      const sink = local ? await localFileSink(local) : null;
      let pos = 0;
      try {
        await sink?.begin(rec.size);
        await s.reader.exactly(rec.size, async (chunk) => {
          signal.throwIfAborted();
          if (sink) await sink.write(chunk, chunk.length, pos);
          pos += chunk.length;
        });
        await s.ack();
        await sink?.finish(rec.mode);
      } catch (err) {
        await sink?.abort();
        throw err;
      }
      await ok();
    }
  });
  for (const d of dirModes.reverse()) await ensureLocalDir(d.path, d.mode);
}
