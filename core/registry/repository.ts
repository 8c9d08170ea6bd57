// A registry folder on disk, from the publisher's side: read its current root, timestamp and index,
// and write new signed versions. Used by `imgb registry init|publish|...`, by the mirror and by
// tests that need to forge attacks with valid registry keys.
import { describeIssues } from "../errors/valibot-issues.ts";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { RegistryError } from "./errors.ts";
import { jsonText, writeFileAtomic } from "./fsutil.ts";
import { sha256Hex } from "./hashing.ts";
import { LAYOUT } from "./layout.ts";
import {
  IndexEnvelopeSchema,
  RootEnvelopeSchema,
  SPEC_VERSION,
  TimestampEnvelopeSchema,
  type IndexEnvelope,
  type IndexSigned,
  type PrivateKeyFile,
  type RootEnvelope,
  type TimestampEnvelope,
  type TimestampSigned,
} from "./schema.ts";
import { signEnvelope } from "./signing.ts";

export const DAY_MS = 24 * 3600 * 1000;
/** Defaults: the index is re-signed at least monthly, the timestamp daily, the root yearly. */
export const DEFAULT_LIFETIMES = { root: 365 * DAY_MS, index: 30 * DAY_MS, timestamp: DAY_MS };

export interface Lifetimes {
  root?: number;
  index?: number;
  timestamp?: number;
}

export interface Signers {
  index: PrivateKeyFile[];
  timestamp: PrivateKeyFile[];
}

export interface WriteOptions {
  now?: Date;
  lifetimes?: Lifetimes;
}

export function isoAfter(now: Date, ms: number): string {
  return new Date(Math.floor((now.getTime() + ms) / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

async function readDoc<S extends v.GenericSchema>(dir: string, file: string, schema: S): Promise<v.InferOutput<S>> {
  const path = join(dir, file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new RegistryError("usage", `${path}: ${(e as Error).message} (is ${dir} a registry folder? see "imgb registry init")`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RegistryError("bad-document", `${path} is not JSON`);
  }
  const r = v.safeParse(schema, json);
  if (!r.success) throw new RegistryError("bad-document", `${path} is malformed: ${describeIssues(r.issues)}`);
  return r.output;
}

export const readRegistryRoot = (dir: string): Promise<RootEnvelope> => readDoc(dir, LAYOUT.root, RootEnvelopeSchema);
export const readRegistryTimestamp = (dir: string): Promise<TimestampEnvelope> => readDoc(dir, LAYOUT.timestamp, TimestampEnvelopeSchema);

export async function readRegistryIndex(dir: string): Promise<IndexEnvelope> {
  const ts = await readRegistryTimestamp(dir);
  return readDoc(dir, LAYOUT.versionedIndex(ts.signed.index.version), IndexEnvelopeSchema);
}

export async function writeRoot(dir: string, root: RootEnvelope): Promise<void> {
  const text = jsonText(root);
  await writeFileAtomic(join(dir, LAYOUT.versionedRoot(root.signed.version)), text);
  await writeFileAtomic(join(dir, LAYOUT.root), text);
}

/** Signs and writes an index exactly as given (version included), then a new timestamp naming it. */
export async function writeSignedIndex(dir: string, index: IndexSigned, signers: Signers, opts: WriteOptions = {}): Promise<TimestampEnvelope> {
  const bytes = new TextEncoder().encode(jsonText(signEnvelope(index, signers.index)));
  await writeFileAtomic(join(dir, LAYOUT.versionedIndex(index.version)), bytes);
  return writeTimestamp(dir, { version: index.version, sha256: sha256Hex(bytes), length: bytes.byteLength }, signers.timestamp, opts);
}

/** A new timestamp (version = previous + 1) naming the given index file. */
export async function writeTimestamp(dir: string, index: TimestampSigned["index"], keys: PrivateKeyFile[], opts: WriteOptions = {}): Promise<TimestampEnvelope> {
  const now = opts.now ?? new Date();
  // A registry's first timestamp is version 1; after that, each one follows the last.
  const exists = (await stat(join(dir, LAYOUT.timestamp)).catch(() => undefined)) !== undefined;
  const previous = exists ? (await readRegistryTimestamp(dir)).signed.version : 0;
  const ts: TimestampSigned = {
    _type: "timestamp",
    spec: SPEC_VERSION,
    version: previous + 1,
    expires: isoAfter(now, opts.lifetimes?.timestamp ?? DEFAULT_LIFETIMES.timestamp),
    index,
  };
  const env = signEnvelope(ts, keys);
  await writeFileAtomic(join(dir, LAYOUT.timestamp), jsonText(env));
  return env;
}

/** Re-signs the timestamp for the current index (what a registry does on a schedule). */
export async function refreshTimestamp(dir: string, keys: PrivateKeyFile[], opts: WriteOptions = {}): Promise<TimestampEnvelope> {
  const ts = await readRegistryTimestamp(dir);
  return writeTimestamp(dir, ts.signed.index, keys, opts);
}

/** Applies `change` to the current index, bumps its version and expiry, signs, writes. */
export async function updateIndex(dir: string, signers: Signers, change: (index: IndexSigned) => void, opts: WriteOptions = {}): Promise<IndexSigned> {
  const current = (await readRegistryIndex(dir)).signed;
  const next: IndexSigned = structuredClone(current);
  change(next);
  next.version = current.version + 1;
  next.expires = isoAfter(opts.now ?? new Date(), opts.lifetimes?.index ?? DEFAULT_LIFETIMES.index);
  await writeSignedIndex(dir, next, signers, opts);
  return next;
}
