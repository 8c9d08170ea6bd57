// The lock file, `.imgb.lock.json` next to the template (JSON, so no second parser is needed; the
// same format also records plugins installed outside any template, in $XDG_STATE_HOME/imgb/installed.json).
//
// {
//   "lockVersion": 1,
//   "plugins": {
//     "acme/hello": {                     // the plugin's registry name (namespace/name)
//       "localName": "hello",             // the name in required_plugins
//       "version": "1.2.0",
//       "constraints": ">= 1.0",          // as written in the template when locked
//       "sha256": "…", "size": 1234,      // the exact module; re-checked before every use
//       "signed": true,                   // false: installed from a local file with --allow-unsigned
//       "registry": "https://…", "registryId": "…", "publisher": "<key id>",   // signed only
//       "capabilities": ["communicator"], // what the user granted; a new version asking for more
//                                         // needs approval again
//       "limits": { "memoryMiB": 64, "cpuMs": 10000 }
//     }
//   }
// }
import { describeIssues } from "../errors/valibot-issues.ts";
import { join } from "node:path";
import * as v from "valibot";
import { RegistryError } from "./errors.ts";
import { jsonText, readIfExists, writeFileAtomic } from "./fsutil.ts";
import { isValidPluginName } from "./names.ts";
import { CapabilityName, LimitsSchema } from "./schema.ts";
import { isSemVer } from "./semver.ts";
import { SHA256_HEX } from "./hashing.ts";

export const LOCK_FILE_NAME = ".imgb.lock.json";

const LockEntrySchema = v.strictObject({
  localName: v.string(),
  /** The required_plugins source address it was resolved for (when it differs from the name: a registry alias). */
  source: v.optional(v.pipe(v.string(), v.maxLength(300))),
  version: v.pipe(v.string(), v.check(isSemVer, "expected a semantic version")),
  constraints: v.string(),
  sha256: v.pipe(v.string(), v.regex(SHA256_HEX)),
  size: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  signed: v.boolean(),
  registry: v.optional(v.string()),
  registryId: v.optional(v.string()),
  publisher: v.optional(v.string()),
  capabilities: v.array(CapabilityName),
  limits: LimitsSchema,
});
export type LockEntry = v.InferOutput<typeof LockEntrySchema>;

const LockSchema = v.strictObject({
  lockVersion: v.literal(1),
  plugins: v.record(v.pipe(v.string(), v.check(isValidPluginName, "invalid plugin name")), LockEntrySchema),
});
export type LockFile = v.InferOutput<typeof LockSchema>;

export function emptyLock(): LockFile {
  return { lockVersion: 1, plugins: {} };
}

export function lockPath(templateDir: string): string {
  return join(templateDir, LOCK_FILE_NAME);
}

export async function readLockAt(path: string): Promise<LockFile | undefined> {
  const bytes = await readIfExists(path);
  if (bytes === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RegistryError("lock", `${path} is not JSON; delete it and run "imgb init" again`);
  }
  const r = v.safeParse(LockSchema, json);
  if (!r.success) throw new RegistryError("lock", `${path} is malformed: ${describeIssues(r.issues)}`);
  return r.output;
}

export async function writeLockAt(path: string, lock: LockFile): Promise<void> {
  const sorted: LockFile = { lockVersion: 1, plugins: {} };
  for (const name of Object.keys(lock.plugins).sort()) sorted.plugins[name] = lock.plugins[name] as LockEntry;
  await writeFileAtomic(path, jsonText(sorted));
}

export const readLock = (templateDir: string) => readLockAt(lockPath(templateDir));
export const writeLock = (templateDir: string, lock: LockFile) => writeLockAt(lockPath(templateDir), lock);

export function installedStatePath(stateDir: string): string {
  return join(stateDir, "installed.json");
}
