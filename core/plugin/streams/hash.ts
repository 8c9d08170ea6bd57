// hash_files: digests of whole files computed on the host in one pass per file (every requested
// algorithm fed from the same read), with large reads and double buffering so the next read runs
// while the current block is hashed. Bun.CryptoHasher is BoringSSL (SHA-NI where the CPU has it).
import { openForRead } from "../host/paths.ts";

import { HASH_TYPES } from "../host/table.ts";
import { Cancelled } from "../../errors/cancelled.ts";

export { HASH_TYPES };
export type HashType = (typeof HASH_TYPES)[number];

const READ_SIZE = 4 * 2 ** 20;

export interface FileDigests {
  path: string;
  size: number;
  /** Lowercase hex per algorithm. */
  digests: Partial<Record<HashType, string>>;
}

export async function hashFile(
  path: string,
  types: readonly HashType[],
  onBytes: (n: number) => void = () => {},
  signal?: AbortSignal,
): Promise<FileDigests> {
  const hashers = types.map((t) => [t, new Bun.CryptoHasher(t)] as const);
  // `path` is the grant check's resolved path: opened as every checked file is (no FIFO, no swapped link).
  const fh = await openForRead({ path, real: path });
  try {
    const size = (await fh.stat()).size;
    const bufs = [new Uint8Array(READ_SIZE), new Uint8Array(READ_SIZE)];
    let pos = 0;
    let which = 0;
    let pending = fh.read(bufs[0]!, 0, READ_SIZE, 0);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const current = bufs[which]!;
      pos += bytesRead;
      which ^= 1;
      pending = fh.read(bufs[which]!, 0, READ_SIZE, pos);
      const view = current.subarray(0, bytesRead);
      for (const [, h] of hashers) h.update(view);
      onBytes(bytesRead);
      if (signal?.aborted) {
        await pending.catch(() => undefined);
        throw new Cancelled("cancelled");
      }
    }
    const digests: Partial<Record<HashType, string>> = {};
    for (const [t, h] of hashers) digests[t] = h.digest("hex");
    return { path, size: pos === size ? size : pos, digests };
  } finally {
    await fh.close();
  }
}
