// Content-addressed plugin cache: <cacheDir>/plugins/sha256/<hex>.wasm. A file's name is its hash,
// so two plugins can never collide and a tampered file is caught by re-hashing before every use.
import type { Stats } from "node:fs";
import { lstat, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { RegistryError } from "./errors.ts";
import { writeFileAtomic } from "./fsutil.ts";
import { SHA256_HEX, sha256Hex } from "./hashing.ts";

export function cachedWasmPath(cacheDir: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new RegistryError("bad-document", `not a sha256: ${sha256}`);
  return join(cacheDir, "plugins", "sha256", `${sha256}.wasm`);
}

export async function storeWasm(cacheDir: string, bytes: Uint8Array): Promise<{ path: string; sha256: string }> {
  const sha256 = sha256Hex(bytes);
  const path = cachedWasmPath(cacheDir, sha256);
  const st = await lstat(path).catch(() => undefined);
  if (st !== undefined && !st.isFile()) {
    throw new RegistryError("mismatch", `cannot store the module: ${path} is ${kindOf(st)}, not a file; remove it`);
  }
  await writeFileAtomic(path, bytes, 0o444);
  return { path, sha256 };
}

/** Reads a cached module and re-checks its hash; undefined when absent, throws when altered. */
export async function readCachedWasm(cacheDir: string, sha256: string, plugin: string): Promise<{ path: string; bytes: Uint8Array } | undefined> {
  const path = cachedWasmPath(cacheDir, sha256);
  // Only a regular file is read: a FIFO would hang imgb, a directory would fail with a raw EISDIR.
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined) return undefined;
  if (!st.isFile()) {
    throw new RegistryError("mismatch", `cached module ${path} is not a regular file (${kindOf(st)}); remove it and run "imgb plugins verify --repair" or "imgb init"`, { plugin });
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  if (sha256Hex(bytes) !== sha256) {
    throw new RegistryError("mismatch", `cached module ${path} no longer matches its sha256 (altered on disk); run "imgb plugins verify" or remove it`, { plugin });
  }
  return { path, bytes };
}

/**
 * `describe` answers of cached modules, by the module's sha256: a plugin is described in a sandbox
 * once, not on every command (core/plugin/catalog.ts DescriptionStore).
 */
export function descriptionStore(cacheDir: string): { get(sha256: string): Promise<string | undefined>; put(sha256: string, text: string): Promise<void> } {
  const path = (sha256: string) => {
    if (!SHA256_HEX.test(sha256)) throw new RegistryError("bad-document", `not a sha256: ${sha256}`);
    return join(cacheDir, "plugins", "descriptions", `${sha256}.json`);
  };
  return {
    async get(sha256) {
      const p = path(sha256);
      const st = await lstat(p).catch(() => undefined);
      if (!st?.isFile() || st.size > 1024 * 1024) return undefined;
      return readFile(p, "utf8");
    },
    async put(sha256, text) {
      await writeFileAtomic(path(sha256), text);
    },
  };
}

export async function removeCachedWasm(cacheDir: string, sha256: string): Promise<void> {
  await rm(cachedWasmPath(cacheDir, sha256), { force: true });
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isSocket()) return "a socket";
  return "a device";
}
