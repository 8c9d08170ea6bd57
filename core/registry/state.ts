// What the client remembers per registry, to refuse rollbacks: the highest root, timestamp and index
// versions it has verified, and the newest verified root itself (so key rotation survives restarts).
// A registry is identified by the root the user trusts (not by URL), so a mirror of the same
// registry shares the same memory and cannot be used to roll a client back either. The root that
// identifies a registry is its first one (version 1), so memory survives root rotations (client.ts).
import { join } from "node:path";
import * as v from "valibot";
import { canonicalBytes } from "./canonical-json.ts";
import { RegistryError } from "./errors.ts";
import { readIfExists, jsonText, writeFileAtomic } from "./fsutil.ts";
import { sha256Hex } from "./hashing.ts";
import { RootEnvelopeSchema, type RootEnvelope } from "./schema.ts";

const StateSchema = v.strictObject({
  rootVersion: v.pipe(v.number(), v.safeInteger()),
  timestampVersion: v.pipe(v.number(), v.safeInteger()),
  indexVersion: v.pipe(v.number(), v.safeInteger()),
});
export type SeenVersions = v.InferOutput<typeof StateSchema>;

export function registryId(trustedRoot: Pick<RootEnvelope, "signed">): string {
  return sha256Hex(canonicalBytes(trustedRoot.signed)).slice(0, 16);
}

const IdentitySchema = v.strictObject({ identity: v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/)) });

/** The identity (first root's id) found earlier for a trusted root of a later version. */
export async function loadIdentity(stateDir: string, trustedId: string): Promise<string | undefined> {
  const path = join(stateDir, "identities", `${trustedId}.json`);
  return parseStored(IdentitySchema, await readIfExists(path), path)?.identity;
}

export async function saveIdentity(stateDir: string, trustedId: string, identity: string): Promise<void> {
  await writeFileAtomic(join(stateDir, "identities", `${trustedId}.json`), jsonText({ identity }));
}

function dirFor(stateDir: string, id: string): string {
  return join(stateDir, "registries", id);
}

export interface RegistryMemory {
  seen: SeenVersions;
  root?: RootEnvelope;
}

function parseStored<S extends v.GenericSchema>(schema: S, bytes: Uint8Array | undefined, path: string): v.InferOutput<S> | undefined {
  if (bytes === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RegistryError("bad-document", `client state ${path} is not JSON; remove it to start over`);
  }
  const r = v.safeParse(schema, json);
  if (!r.success) throw new RegistryError("bad-document", `client state ${path} is malformed; remove it to start over`);
  return r.output;
}

export async function loadMemory(stateDir: string, id: string): Promise<RegistryMemory> {
  const dir = dirFor(stateDir, id);
  const seen = parseStored(StateSchema, await readIfExists(join(dir, "state.json")), join(dir, "state.json")) ?? {
    rootVersion: 0,
    timestampVersion: 0,
    indexVersion: 0,
  };
  const root = parseStored(RootEnvelopeSchema, await readIfExists(join(dir, "root.json")), join(dir, "root.json"));
  return root ? { seen, root } : { seen };
}

export async function saveMemory(stateDir: string, id: string, memory: RegistryMemory): Promise<void> {
  const dir = dirFor(stateDir, id);
  if (memory.root) await writeFileAtomic(join(dir, "root.json"), jsonText(memory.root));
  await writeFileAtomic(join(dir, "state.json"), jsonText(memory.seen));
}
