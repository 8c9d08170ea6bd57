// The adapter's SFTP subsystem, served on the host over the build's communicator (Packer runs
// `sftp_command` on the machine instead, which needs an sftp-server there: containers rarely have
// one). ansible's file transfers (sftp, and scp, which speaks SFTP since OpenSSH 9) only open,
// write, read, stat and close files: a file being written collects in a local temp file and is
// uploaded on CLOSE; a file opened for reading is downloaded on OPEN and served from there.
import { mkdtemp, open, rm, stat as localStat, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import type { Attributes, SFTPWrapper } from "ssh2";
import { ssh2 } from "../ssh/ssh2.ts";
import type { Communicator } from "../types.ts";
import { shellQuote } from "../../process/shell-quote.ts";


interface OpenFile {
  remote: string;
  local: string;
  fh: FileHandle;
  writing: boolean;
  mode: number;
}

/** Runs a short command on the machine; its stdout, or null when it failed. */
async function remoteOutput(comm: Communicator, command: string, signal: AbortSignal): Promise<string | null> {
  const out: Uint8Array[] = [];
  try {
    const r = await comm.start({ command, onStdout: (c) => out.push(c) }, signal);
    if (r.kind !== "exited" || r.exitStatus !== 0) return null;
  } catch {
    return null;
  }
  return Buffer.concat(out).toString("utf8");
}

/**
 * ssh2's server-side SFTP object has no exit(): it is the session channel, so the status goes
 * through the protocol object as Channel.exit() does.
 */
function sendExitStatus(sftp: SFTPWrapper, status: number): void {
  const raw = sftp as unknown as { outgoing?: { id: number; state: string }; _protocol?: { exitStatus(chan: number, status: number): void } };
  if (raw.outgoing?.state === "open") raw._protocol?.exitStatus(raw.outgoing.id, status);
}

/** Serves one SFTP session until the client closes it. */
export function serveSftp(sftp: SFTPWrapper, comm: Communicator, signal: AbortSignal): void {
  const { OPEN_MODE, STATUS_CODE } = ssh2().utils.sftp; // loaded by startAdapter
  const files = new Map<number, OpenFile>();
  let nextHandle = 1;
  let scratch: Promise<string> | undefined;
  let home: Promise<string> | undefined;
  const scratchDir = () => (scratch ??= mkdtemp(join(tmpdir(), "imgb-adapter-")));
  const homeDir = () => (home ??= remoteOutput(comm, "pwd", signal).then((o) => o?.trim() || "/"));
  const handleOf = (buf: Buffer): OpenFile | undefined => (buf.length === 4 ? files.get(buf.readUInt32BE(0)) : undefined);
  const handleBuf = (id: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id, 0);
    return b;
  };
  const fail = (req: number, e: unknown) => sftp.status(req, STATUS_CODE.FAILURE, e instanceof Error ? e.message : String(e));
  const absolute = async (p: string) => posix.normalize(p.startsWith("/") ? p : posix.join(await homeDir(), p));

  const statRemote = async (path: string, follow: boolean): Promise<Attributes | null> => {
    const out = await remoteOutput(comm, `stat ${follow ? "-L " : ""}-c '%f %s %u %g %X %Y' -- ${shellQuote(path)}`, signal);
    const f = out?.trim().split(" ").map((x, i) => (i === 0 ? parseInt(x, 16) : Number(x)));
    if (!f || f.length !== 6 || f.some((n) => Number.isNaN(n))) return null;
    return { mode: f[0]!, size: f[1]!, uid: f[2]!, gid: f[3]!, atime: f[4]!, mtime: f[5]! };
  };
  const run = async (req: number, command: string) => {
    const ok = (await remoteOutput(comm, command, signal)) !== null;
    sftp.status(req, ok ? STATUS_CODE.OK : STATUS_CODE.FAILURE, ok ? undefined : `${command} failed`);
  };

  sftp.on("REALPATH", async (req: number, path: string) => {
    const abs = await absolute(path === "" ? "." : path);
    sftp.name(req, [{ filename: abs, longname: abs, attrs: {} as Attributes }]);
  });
  sftp.on("STAT", async (req: number, path: string) => {
    const a = await statRemote(await absolute(path), true);
    if (a) sftp.attrs(req, a);
    else sftp.status(req, STATUS_CODE.NO_SUCH_FILE);
  });
  sftp.on("LSTAT", async (req: number, path: string) => {
    const a = await statRemote(await absolute(path), false);
    if (a) sftp.attrs(req, a);
    else sftp.status(req, STATUS_CODE.NO_SUCH_FILE);
  });
  sftp.on("OPEN", async (req: number, filename: string, flags: number, attrs: Partial<Attributes>) => {
    try {
      const remote = await absolute(filename);
      const writing = (flags & OPEN_MODE.WRITE) !== 0;
      const local = join(await scratchDir(), String(nextHandle));
      if (!writing) {
        try {
          await comm.download(remote, { kind: "file", path: local }, signal);
        } catch {
          return sftp.status(req, STATUS_CODE.NO_SUCH_FILE);
        }
      }
      const fh = await open(local, writing ? "w+" : "r", 0o600);
      const id = nextHandle++;
      files.set(id, { remote, local, fh, writing, mode: typeof attrs.mode === "number" ? attrs.mode & 0o7777 : 0o644 });
      sftp.handle(req, handleBuf(id));
    } catch (e) {
      fail(req, e);
    }
  });
  sftp.on("WRITE", async (req: number, handle: Buffer, offset: number, data: Buffer) => {
    const f = handleOf(handle);
    if (!f?.writing) return sftp.status(req, STATUS_CODE.FAILURE, "not open for writing");
    try {
      await f.fh.write(data, 0, data.length, offset);
      sftp.status(req, STATUS_CODE.OK);
    } catch (e) {
      fail(req, e);
    }
  });
  sftp.on("READ", async (req: number, handle: Buffer, offset: number, length: number) => {
    const f = handleOf(handle);
    if (!f) return sftp.status(req, STATUS_CODE.FAILURE, "no such handle");
    const buf = Buffer.alloc(Math.min(length, 256 * 1024));
    const { bytesRead } = await f.fh.read(buf, 0, buf.length, offset);
    if (bytesRead === 0) sftp.status(req, STATUS_CODE.EOF);
    else sftp.data(req, buf.subarray(0, bytesRead));
  });
  sftp.on("FSTAT", async (req: number, handle: Buffer) => {
    const f = handleOf(handle);
    if (!f) return sftp.status(req, STATUS_CODE.FAILURE, "no such handle");
    const st = await localStat(f.local);
    const now = Math.floor(Date.now() / 1000);
    sftp.attrs(req, { mode: 0o100000 | f.mode, size: st.size, uid: 0, gid: 0, atime: now, mtime: now });
  });
  sftp.on("FSETSTAT", (req: number, handle: Buffer, attrs: Partial<Attributes>) => {
    const f = handleOf(handle);
    if (f && typeof attrs.mode === "number") f.mode = attrs.mode & 0o7777;
    sftp.status(req, f ? STATUS_CODE.OK : STATUS_CODE.FAILURE);
  });
  sftp.on("SETSTAT", async (req: number, path: string, attrs: Partial<Attributes>) => {
    if (typeof attrs.mode !== "number") return sftp.status(req, STATUS_CODE.OK);
    await run(req, `chmod ${(attrs.mode & 0o7777).toString(8)} -- ${shellQuote(await absolute(path))}`);
  });
  sftp.on("CLOSE", async (req: number, handle: Buffer) => {
    const f = handleOf(handle);
    if (!f) return sftp.status(req, STATUS_CODE.FAILURE, "no such handle");
    files.delete(handle.readUInt32BE(0));
    try {
      await f.fh.close();
      if (f.writing) await comm.upload(f.remote, { kind: "file", path: f.local }, { mode: f.mode }, signal);
      sftp.status(req, STATUS_CODE.OK);
    } catch (e) {
      fail(req, e);
    } finally {
      await rm(f.local, { force: true });
    }
  });
  sftp.on("MKDIR", async (req: number, path: string) => run(req, `mkdir -- ${shellQuote(await absolute(path))}`));
  sftp.on("RMDIR", async (req: number, path: string) => run(req, `rmdir -- ${shellQuote(await absolute(path))}`));
  sftp.on("REMOVE", async (req: number, path: string) => run(req, `rm -f -- ${shellQuote(await absolute(path))}`));
  sftp.on("RENAME", async (req: number, from: string, to: string) =>
    run(req, `mv -- ${shellQuote(await absolute(from))} ${shellQuote(await absolute(to))}`),
  );

  // The client's EOF ends the session: ssh2 leaves closing the channel to the server. An
  // exit-status goes first, as sshd sends for its sftp-server: scp (SFTP mode) fails without one.
  sftp.on("end", () => {
    sendExitStatus(sftp, 0);
    sftp.end();
  });
  sftp.on("close", () => {
    for (const f of files.values()) void f.fh.close().catch(() => {});
    files.clear();
    if (scratch) void scratch.then((d) => rm(d, { recursive: true, force: true }));
  });
}
