// Byte handles in the sandbox child (docs/plugin-abi.md §14): the parent checks the grant and answers
// `artifact_open` / `artifact_create` with a handle and the resolved path; the child opens that path
// and moves bytes between the file and the plugin's own linear memory with one pread/pwrite each,
// no JSON, no base64, no IPC. Handles live until the export call ends.
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { pluginInstance } from "./extism-kernel.ts";

export class ByteHandleError extends Error {
  override name = "ByteHandleError";
}

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
    const writable = fn === "artifact_create";
    this.open.set(r.handle, { fd: openSync(r.path, writable ? "r+" : "r"), writable });
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
