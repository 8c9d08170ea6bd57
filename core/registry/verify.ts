// The client's checks, as pure functions over bytes and already-trusted metadata. Each returns the
// validated document or throws a RegistryError that says which attack or fault it saw.
import { describeIssues } from "../errors/valibot-issues.ts";
import * as v from "valibot";
import { canonicalBytes } from "./canonical-json.ts";
import { RegistryError } from "./errors.ts";
import { sha256Hex } from "./hashing.ts";
import { verifyBytes } from "./keys.ts";
import { pluginNamespace } from "./names.ts";
import {
  IndexEnvelopeSchema,
  RootEnvelopeSchema,
  TimestampEnvelopeSchema,
  type IndexSigned,
  type PluginVersion,
  type PublisherStatement,
  type RootEnvelope,
  type RootSigned,
  type Signature,
  type TimestampSigned,
} from "./schema.ts";
import { checkThreshold } from "./signing.ts";
import type { JsonValue } from "../values/json.ts";

type Where = { registry: string; plugin?: string };

export function parseJsonBytes(bytes: Uint8Array, what: string, where: Where): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new RegistryError("bad-document", `${what} is not valid UTF-8 JSON`, where);
  }
}

function parseWith<S extends v.GenericSchema>(schema: S, json: unknown, what: string, where: Where): v.InferOutput<S> {
  const r = v.safeParse(schema, json);
  if (!r.success) throw new RegistryError("bad-document", `${what} is malformed: ${describeIssues(r.issues)}`, where);
  return r.output;
}

export function parseRoot(bytes: Uint8Array, what: string, where: Where): RootEnvelope {
  return parseWith(RootEnvelopeSchema, parseJsonBytes(bytes, what, where), what, where);
}

function checkExpiry(expires: string, now: Date, what: string, where: Where): void {
  if (Date.parse(expires) <= now.getTime()) {
    throw new RegistryError(
      "expired",
      `${what} expired at ${expires} (now ${now.toISOString()}); refusing stale metadata (freeze attack or a registry not re-signed)`,
      where,
    );
  }
}

function requireThreshold(
  root: RootSigned,
  role: "root" | "index" | "timestamp",
  env: { signed: JsonValue; signatures: Signature[] },
  what: string,
  where: Where,
): void {
  const r = checkThreshold(env.signed, env.signatures, root.roles[role], root.keys, what);
  if (!r.ok) throw new RegistryError("bad-signature", r.reason, where);
}

/** A root is self-consistent: its own root role's threshold signed it. Used for configured roots. */
export function verifySelfSignedRoot(env: RootEnvelope, what: string, where: Where): RootSigned {
  requireThreshold(env.signed, "root", env, what, where);
  return env.signed;
}

/**
 * Root rotation: root N+1 must be signed by a threshold of root N's root keys (the old trust
 * vouches for the new) AND a threshold of its own root keys (the new keys exist and agree).
 */
export function verifyNextRoot(trusted: RootSigned, next: RootEnvelope, where: Where): RootSigned {
  const label = `root version ${next.signed.version}`;
  if (next.signed.version !== trusted.version + 1) {
    throw new RegistryError("rollback", `${label} found where root version ${trusted.version + 1} was expected`, where);
  }
  const byOld = checkThreshold(next.signed, next.signatures, trusted.roles.root, trusted.keys, `${label} (by root version ${trusted.version}'s keys)`);
  if (!byOld.ok) throw new RegistryError("bad-signature", `broken root chain: ${byOld.reason}`, where);
  const byNew = checkThreshold(next.signed, next.signatures, next.signed.roles.root, next.signed.keys, `${label} (by its own keys)`);
  if (!byNew.ok) throw new RegistryError("bad-signature", `broken root chain: ${byNew.reason}`, where);
  return next.signed;
}

export function checkRootFresh(root: RootSigned, now: Date, where: Where): void {
  checkExpiry(root.expires, now, `root version ${root.version}`, where);
}

export function verifyTimestamp(
  root: RootSigned,
  bytes: Uint8Array,
  now: Date,
  seen: { timestamp: number; index: number },
  where: Where,
): TimestampSigned {
  const env = parseWith(TimestampEnvelopeSchema, parseJsonBytes(bytes, "timestamp", where), "timestamp", where);
  requireThreshold(root, "timestamp", env, "timestamp", where);
  const ts = env.signed;
  if (ts.version < seen.timestamp) {
    throw new RegistryError("rollback", `timestamp version ${ts.version} is older than version ${seen.timestamp} already seen (rollback attack)`, where);
  }
  if (ts.index.version < seen.index) {
    throw new RegistryError("rollback", `timestamp names index version ${ts.index.version}, older than version ${seen.index} already seen (rollback attack)`, where);
  }
  checkExpiry(ts.expires, now, `timestamp version ${ts.version}`, where);
  return ts;
}

export function verifyIndex(root: RootSigned, ts: TimestampSigned, bytes: Uint8Array, now: Date, seenIndex: number, where: Where): IndexSigned {
  if (bytes.byteLength !== ts.index.length || sha256Hex(bytes) !== ts.index.sha256) {
    throw new RegistryError(
      "mismatch",
      `index version ${ts.index.version} does not match the timestamp (expected ${ts.index.length} bytes with sha256 ${ts.index.sha256.slice(0, 16)}…, got ${bytes.byteLength} bytes with sha256 ${sha256Hex(bytes).slice(0, 16)}…): tampered or mixed-and-matched metadata`,
      where,
    );
  }
  const env = parseWith(IndexEnvelopeSchema, parseJsonBytes(bytes, "index", where), "index", where);
  requireThreshold(root, "index", env, "index", where);
  const index = env.signed;
  if (index.version !== ts.index.version) {
    throw new RegistryError("mismatch", `index is version ${index.version} but the timestamp names version ${ts.index.version} (mix-and-match)`, where);
  }
  if (index.version < seenIndex) {
    throw new RegistryError("rollback", `index version ${index.version} is older than version ${seenIndex} already seen (rollback attack)`, where);
  }
  checkExpiry(index.expires, now, `index version ${index.version}`, where);
  return index;
}

export function statementOf(pv: PluginVersion): PublisherStatement {
  return { name: pv.name, version: pv.version, abi: pv.abi, wasm: pv.wasm, capabilities: pv.capabilities, limits: pv.limits };
}

/** The publisher's signature: by a key the index trusts for the plugin's namespace, over the statement. */
export function verifyPublisher(index: IndexSigned, name: string, version: string, pv: PluginVersion, where: Where): void {
  const w = { ...where, plugin: `${name} ${version}` };
  if (pv.name !== name || pv.version !== version) {
    throw new RegistryError("bad-document", `index entry ${name} ${version} describes ${pv.name} ${pv.version}`, w);
  }
  const publisher = index.publishers[pv.publisher.keyid];
  if (!publisher) {
    throw new RegistryError("bad-signature", `signed by unknown publisher key ${pv.publisher.keyid.slice(0, 12)}…; the index trusts no such key`, w);
  }
  const ns = pluginNamespace(name);
  if (!publisher.namespaces.includes(ns)) {
    throw new RegistryError("bad-signature", `publisher key ${pv.publisher.keyid.slice(0, 12)}… may not publish in namespace "${ns}"`, w);
  }
  if (!verifyBytes(publisher, canonicalBytes(statementOf(pv)), pv.publisher.sig)) {
    throw new RegistryError("bad-signature", `bad publisher signature (the plugin's metadata or hash was changed after signing)`, w);
  }
}

/** The module bytes match the signed hash and size and are a valid WebAssembly module. */
export function verifyWasmBytes(bytes: Uint8Array, expected: { sha256: string; size: number }, where: Where): void {
  if (bytes.byteLength !== expected.size) {
    throw new RegistryError("mismatch", `wasm is ${bytes.byteLength} bytes, signed metadata says ${expected.size} (tampered)`, where);
  }
  const got = sha256Hex(bytes);
  if (got !== expected.sha256) {
    throw new RegistryError("mismatch", `wasm sha256 ${got.slice(0, 16)}… differs from the signed ${expected.sha256.slice(0, 16)}… (tampered)`, where);
  }
  if (!WebAssembly.validate(bytes)) {
    throw new RegistryError("bad-document", `file is not a valid WebAssembly module`, where);
  }
}
