// Byte handles in the sandbox child (docs/plugin-abi.md §14): the parent checks the grant and answers
// `artifact_open` / `artifact_create` with a handle and the resolved path; the child opens that path
// and moves bytes between the file and the plugin's own linear memory with one pread/pwrite each,
// no JSON, no base64, no IPC. Handles live until the export call ends.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { pluginInstance } from "./extism-kernel.ts";
import { OPEN_SAFE, sameFileOpened } from "../host/paths.ts";

export class ByteHandleError extends Error {
  override name = "ByteHandleError";
}

/**
 * Opens the path the parent checked (resolved, no links) as the parent's opens do: no link followed,
 * never blocking, a regular file (with no other hard link, for writing), and the very file checked —
 * the parent's check and this open are two steps in two processes, and a link swapped in between
 * them carried reads outside the grants.
 */
function openChecked(fn: string, path: string, writable: boolean): number {
  let fd: number;
  try {
    fd = openSync(path, (writable ? constants.O_RDWR : constants.O_RDONLY) | OPEN_SAFE);
  } catch (e) {
    throw new ByteHandleError(`${fn}: cannot open ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${JSON.stringify(path)} is not a regular file`);
    if (writable && st.nlink > 1) throw new Error(`${JSON.stringify(path)} has other hard links; imgb does not write through links`);
    sameFileOpened(fd, path);
  } catch (e) {
    closeSync(fd);
    throw new ByteHandleError(`${fn} refused: ${(e as Error).message}`);
  }
  return fd;
}

/** Byte handles open at once in one call (each is a file descriptor of the sandbox process). */
export const MAX_OPEN_HANDLES = 1024;

interface Handle {
  fd: number;
  writable: boolean;
}

export class ByteHandles {
  private readonly open = new Map<number, Handle>();

  /** Opens the file a successful artifact_open / artifact_create reply names. */
  adopt(fn: string, reply: string): void {
    let r: { handle?: unknown; path?: unknown };
    try {
      r = JSON.parse(reply) as { handle?: unknown; path?: unknown };
    } catch {
      return;
    }
    if (typeof r.handle !== "number" || typeof r.path !== "string") return;
    if (this.open.size >= MAX_OPEN_HANDLES) {
      throw new ByteHandleError(`${fn}: the plugin holds ${MAX_OPEN_HANDLES} byte handles at once, the limit: close them (artifact_close) after use`);
    }
    const writable = fn === "artifact_create";
    this.open.set(r.handle, { fd: openChecked(fn, r.path, writable), writable });
  }

  private memory(what: string, ptr: bigint, len: bigint): Uint8Array {
    const mem = pluginInstance()?.exports.memory;
    if (!(mem instanceof WebAssembly.Memory)) throw new ByteHandleError(`${what}: the module exports no memory named "memory"`);
    const start = Number(ptr);
    const n = Number(len);
    if (ptr < 0n || len < 0n || start + n > mem.buffer.byteLength) {
      throw new ByteHandleError(`${what}: bytes ${start}..${start + n} are outside the plugin's memory (${mem.buffer.byteLength} bytes)`);
    }
    return new Uint8Array(mem.buffer, start, n);
  }

  private handle(what: string, h: bigint): Handle {
    const found = this.open.get(Number(h));
    if (!found) throw new ByteHandleError(`${what}: ${h} is not an open handle (artifact_open / artifact_create)`);
    return found;
  }

  /** Reads up to `len` bytes at file `offset` into plugin memory at `ptr`; returns the count (0 at the end). */
  pread(h: bigint, offset: bigint, ptr: bigint, len: bigint): bigint {
    const handle = this.handle("artifact_pread", h);
    const dst = this.memory("artifact_pread", ptr, len);
    return BigInt(readSync(handle.fd, dst, 0, dst.length, Number(offset)));
  }

  /** Writes `len` bytes from plugin memory at `ptr` to file `offset`; returns the count. */
  pwrite(h: bigint, offset: bigint, ptr: bigint, len: bigint): bigint {
    const handle = this.handle("artifact_pwrite", h);
    if (!handle.writable) throw new ByteHandleError(`artifact_pwrite: handle ${h} was opened for reading`);
    const src = this.memory("artifact_pwrite", ptr, len);
    let done = 0;
    while (done < src.length) done += writeSync(handle.fd, src, done, src.length - done, Number(offset) + done);
    return BigInt(done);
  }

  close(h: bigint): bigint {
    const handle = this.open.get(Number(h));
    if (!handle) return -1n;
    this.open.delete(Number(h));
    closeSync(handle.fd);
    return 0n;
  }

  closeAll(): void {
    for (const h of this.open.values()) closeSync(h.fd);
    this.open.clear();
  }
}
