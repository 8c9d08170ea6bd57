// What a lock entry may grant is bounded by what was signed. When a signed plugin is installed, its
// publisher statement (with the publisher's signature and public key) is kept next to the cached
// module; before every use the lock entry is checked against it: same module, capabilities a subset
// of the signed ones, limits no higher than the signed ones, the signature still valid for the key
// the lock names. Editing `.imgb.lock.json` (a pull request adding `local_exec`) thus grants nothing.
// Unsigned installs have no statement; the plugin host grants them at most what the module declares.
import { join } from "node:path";
import * as v from "valibot";
import { canonicalBytes } from "./canonical-json.ts";
import { RegistryError } from "./errors.ts";
import { jsonText, readIfExists, writeFileAtomic } from "./fsutil.ts";
import { SHA256_HEX } from "./hashing.ts";
import { keyId, verifyBytes } from "./keys.ts";
import type { LockEntry } from "./lock.ts";
import { PluginVersionSchema, PublicKeySchema, type PluginVersion, type PublicKey } from "./schema.ts";
import { statementOf } from "./verify.ts";

const StoredSchema = v.strictObject({ entry: PluginVersionSchema, publisherKey: PublicKeySchema });

function statementPath(cacheDir: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new RegistryError("bad-document", `not a sha256: ${sha256}`);
  return join(cacheDir, "plugins", "statements", `${sha256}.json`);
}

export async function storeStatement(cacheDir: string, pv: PluginVersion, publisherKey: PublicKey): Promise<void> {
  await writeFileAtomic(statementPath(cacheDir, pv.wasm.sha256), jsonText({ entry: pv, publisherKey: { keytype: publisherKey.keytype, public: publisherKey.public } }));
}

export async function hasStatement(cacheDir: string, sha256: string): Promise<boolean> {
  return (await readIfExists(statementPath(cacheDir, sha256))) !== undefined;
}

/** Throws when a signed lock entry grants more than its signed statement, or the statement is gone or forged. */
export async function checkGrants(cacheDir: string, name: string, e: LockEntry, remedy: string): Promise<void> {
  if (!e.signed) return;
  const where = { plugin: `${name} ${e.version}` };
  const path = statementPath(cacheDir, e.sha256);
  const bytes = await readIfExists(path);
  if (bytes === undefined) throw new RegistryError("lock", `its signed statement is not in the plugin cache; ${remedy}`, where);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    json = undefined;
  }
  const r = v.safeParse(StoredSchema, json);
  if (!r.success) throw new RegistryError("lock", `its cached signed statement ${path} is malformed; ${remedy}`, where);
  const { entry: pv, publisherKey } = r.output;
  if (pv.wasm.sha256 !== e.sha256 || pv.name !== name || pv.version !== e.version) {
    throw new RegistryError("lock", `the lock names ${name} ${e.version} with sha256 ${e.sha256.slice(0, 16)}…, but the signed statement is for ${pv.name} ${pv.version} (${pv.wasm.sha256.slice(0, 16)}…)`, where);
  }
  if (e.publisher !== undefined && keyId(publisherKey) !== e.publisher) throw new RegistryError("lock", `the lock names publisher key ${e.publisher.slice(0, 12)}…, not the one that signed`, where);
  if (keyId(publisherKey) !== pv.publisher.keyid || !verifyBytes(publisherKey, canonicalBytes(statementOf(pv)), pv.publisher.sig)) {
    throw new RegistryError("bad-signature", `its cached signed statement does not verify; ${remedy}`, where);
  }
  const extra = e.capabilities.filter((c) => !pv.capabilities.includes(c));
  if (extra.length > 0) {
    throw new RegistryError("capabilities", `the lock grants ${extra.join(", ")}, which the signed statement does not declare (signed: ${pv.capabilities.join(", ") || "none"}); refusing an edited lock`, where);
  }
  if (e.limits.memoryMiB > pv.limits.memoryMiB || e.limits.cpuMs > pv.limits.cpuMs) {
    throw new RegistryError(
      "capabilities",
      `the lock's limits (${e.limits.memoryMiB} MiB, ${e.limits.cpuMs} ms) exceed the signed ones (${pv.limits.memoryMiB} MiB, ${pv.limits.cpuMs} ms); refusing an edited lock`,
      where,
    );
  }
}
