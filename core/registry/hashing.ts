// SHA-256 over bytes, as lowercase hex: the one digest the registry, the cache and the lock use.
import { createHash } from "node:crypto";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
