// Content-addressed plugin cache: <cacheDir>/plugins/sha256/<hex>.wasm. A file's name is its hash,
// so two plugins can never collide and a tampered file is caught by re-hashing before every use.
import { readFile, rm } from "node:fs/promises";
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
  await writeFileAtomic(path, bytes, 0o444);
  return { path, sha256 };
}

/** Reads a cached module and re-checks its hash; undefined when absent, throws when altered. */
export async function readCachedWasm(cacheDir: string, sha256: string, plugin: string): Promise<{ path: string; bytes: Uint8Array } | undefined> {
  const path = cachedWasmPath(cacheDir, sha256);
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

export async function removeCachedWasm(cacheDir: string, sha256: string): Promise<void> {
  await rm(cachedWasmPath(cacheDir, sha256), { force: true });
}
