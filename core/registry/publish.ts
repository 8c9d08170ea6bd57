// The registry's authoring tools: create a registry, delegate a namespace to a publisher key,
// sign a plugin (publisher side), publish it (registry side: vetting record + re-signed index and
// timestamp), yank a version, rotate the root keys.
import { describeIssues } from "../errors/valibot-issues.ts";
import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { canonicalBytes } from "./canonical-json.ts";
import { sortedUnique } from "./capabilities.ts";
import { RegistryError } from "./errors.ts";
import { jsonText, writeFileAtomic } from "./fsutil.ts";
import { sha256Hex } from "./hashing.ts";
import { keyId, publicOf, signBytes, verifyBytes } from "./keys.ts";
import { LAYOUT } from "./layout.ts";
import { assertPluginName, pluginNamespace } from "./names.ts";
import {
  PLUGIN_ABI,
  PublisherStatementSchema,
  SPEC_VERSION,
  SignedStatementSchema,
  VettingSchema,
  type IndexSigned,
  type Limits,
  type PrivateKeyFile,
  type PublicKey,
  type PublisherStatement,
  type RootEnvelope,
  type RootSigned,
  type SignedStatement,
  type Vetting,
} from "./schema.ts";
import { isSemVer } from "./semver.ts";
import { signEnvelope } from "./signing.ts";
import { DEFAULT_LIFETIMES, isoAfter, readRegistryIndex, readRegistryRoot, updateIndex, writeRoot, writeSignedIndex, type Signers, type WriteOptions } from "./repository.ts";

export const DEFAULT_LIMITS: Limits = { memoryMiB: 64, cpuMs: 10_000 };

export interface RoleKeys {
  keys: PublicKey[];
  threshold?: number;
}

function role(r: RoleKeys, label: string): { keyids: string[]; threshold: number } {
  const keyids = [...new Set(r.keys.map(keyId))];
  const threshold = r.threshold ?? 1;
  if (keyids.length === 0) throw new RegistryError("usage", `${label} role needs at least one key`);
  if (threshold < 1 || threshold > keyids.length) throw new RegistryError("usage", `${label} threshold ${threshold} must be between 1 and ${keyids.length}`);
  return { keyids, threshold };
}

export function buildRoot(version: number, roles: { root: RoleKeys; index: RoleKeys; timestamp: RoleKeys }, now: Date, lifetime = DEFAULT_LIFETIMES.root): RootSigned {
  const keys: RootSigned["keys"] = {};
  for (const r of [roles.root, roles.index, roles.timestamp]) for (const k of r.keys) keys[keyId(k)] = { keytype: "ed25519", public: k.public };
  return {
    _type: "root",
    spec: SPEC_VERSION,
    version,
    expires: isoAfter(now, lifetime),
    keys,
    roles: { root: role(roles.root, "root"), index: role(roles.index, "index"), timestamp: role(roles.timestamp, "timestamp") },
  };
}

export interface InitRegistryOptions extends WriteOptions {
  /** Root keys sign the root; all must be given (private) for version 1. */
  root: PrivateKeyFile[];
  rootThreshold?: number;
  index: PrivateKeyFile[];
  indexThreshold?: number;
  timestamp: PrivateKeyFile[];
  timestampThreshold?: number;
}

/** Creates a registry folder: 1.root.json (+ root.json), an empty 1.index.json, timestamp.json. */
export async function initRegistry(dir: string, opts: InitRegistryOptions): Promise<RootEnvelope> {
  const now = opts.now ?? new Date();
  await mkdir(dir, { recursive: true });
  if ((await stat(join(dir, LAYOUT.root)).catch(() => undefined)) !== undefined) {
    throw new RegistryError("usage", `${dir} already holds a registry (${LAYOUT.root} exists)`);
  }
  const root = buildRoot(
    1,
    {
      root: { keys: opts.root.map(publicOf), threshold: opts.rootThreshold },
      index: { keys: opts.index.map(publicOf), threshold: opts.indexThreshold },
      timestamp: { keys: opts.timestamp.map(publicOf), threshold: opts.timestampThreshold },
    },
    now,
    opts.lifetimes?.root,
  );
  const env = signEnvelope(root, opts.root);
  await writeRoot(dir, env);
  const index: IndexSigned = {
    _type: "index",
    spec: SPEC_VERSION,
    version: 1,
    expires: isoAfter(now, opts.lifetimes?.index ?? DEFAULT_LIFETIMES.index),
    publishers: {},
    plugins: {},
  };
  await writeSignedIndex(dir, index, { index: opts.index, timestamp: opts.timestamp }, opts);
  return env;
}

/**
 * Root rotation: writes root version N+1 with new roles, signed by the old root keys given AND the
 * new root keys given (each side must reach its threshold, or clients refuse the chain).
 */
export async function rotateRoot(
  dir: string,
  opts: { oldRootKeys: PrivateKeyFile[]; newRoles: { root: RoleKeys; index: RoleKeys; timestamp: RoleKeys }; newRootKeys: PrivateKeyFile[] } & WriteOptions,
): Promise<RootEnvelope> {
  const current = await readRegistryRoot(dir);
  const next = buildRoot(current.signed.version + 1, opts.newRoles, opts.now ?? new Date(), opts.lifetimes?.root);
  const env = signEnvelope(next, [...opts.oldRootKeys, ...opts.newRootKeys]);
  await writeRoot(dir, env);
  return env;
}

/** Delegates namespaces to a publisher key (re-signs index and timestamp). */
export async function trustPublisher(dir: string, publisher: PublicKey, namespaces: string[], signers: Signers, opts: WriteOptions = {}): Promise<IndexSigned> {
  for (const ns of namespaces) assertPluginName(`${ns}/x`);
  const id = keyId(publisher);
  return updateIndex(
    dir,
    signers,
    (index) => {
      const existing = index.publishers[id]?.namespaces ?? [];
      index.publishers[id] = { keytype: "ed25519", public: publisher.public, namespaces: sortedUnique([...existing, ...namespaces]) };
    },
    opts,
  );
}

export interface SignPluginInput {
  wasm: Uint8Array;
  name: string;
  version: string;
  capabilities: string[];
  limits?: Limits;
}

/** Publisher side: the signed statement that travels with the .wasm to the registry. */
export function signPlugin(input: SignPluginInput, publisherKey: PrivateKeyFile): SignedStatement {
  assertPluginName(input.name);
  if (!isSemVer(input.version)) throw new RegistryError("usage", `version ${JSON.stringify(input.version)} is not a semantic version`);
  if (!WebAssembly.validate(input.wasm)) throw new RegistryError("usage", `${input.name}: file is not a valid WebAssembly module`);
  const candidate = {
    name: input.name,
    version: input.version,
    abi: PLUGIN_ABI,
    wasm: { sha256: sha256Hex(input.wasm), size: input.wasm.byteLength },
    capabilities: sortedUnique(input.capabilities),
    limits: input.limits ?? DEFAULT_LIMITS,
  };
  const r = v.safeParse(PublisherStatementSchema, candidate);
  if (!r.success) throw new RegistryError("usage", `${input.name}: ${describeIssues(r.issues)}`);
  const statement: PublisherStatement = r.output;
  return { statement, signature: { keyid: publisherKey.keyid, sig: signBytes(publisherKey, canonicalBytes(statement)) } };
}

export function parseSignedStatement(json: unknown, source: string): SignedStatement {
  const r = v.safeParse(SignedStatementSchema, json);
  if (!r.success) throw new RegistryError("bad-document", `${source} is not a signed plugin statement: ${describeIssues(r.issues)}`);
  return r.output;
}

export function parseVetting(json: unknown): Vetting {
  const r = v.safeParse(VettingSchema, json);
  if (!r.success) throw new RegistryError("usage", `vetting record: ${describeIssues(r.issues)}`);
  return r.output;
}

/**
 * Registry side: checks the publisher's signature (key trusted for the namespace) and the module's
 * hash, copies the module to blobs/, adds the version with its vetting record, re-signs.
 */
export async function publishPlugin(
  dir: string,
  input: { wasmPath: string; signed: SignedStatement; vetting: Vetting; signers: Signers } & WriteOptions,
): Promise<IndexSigned> {
  const { statement, signature } = input.signed;
  const label = `${statement.name} ${statement.version}`;
  assertPluginName(statement.name);
  const current = (await readRegistryIndex(dir)).signed;
  const publisher = current.publishers[signature.keyid];
  if (!publisher) throw new RegistryError("bad-signature", `signed by key ${signature.keyid.slice(0, 12)}…, which this registry does not trust (see "imgb registry trust-publisher")`, { plugin: label });
  if (!publisher.namespaces.includes(pluginNamespace(statement.name))) {
    throw new RegistryError("bad-signature", `publisher key ${signature.keyid.slice(0, 12)}… may not publish in namespace "${pluginNamespace(statement.name)}"`, { plugin: label });
  }
  if (!verifyBytes(publisher, canonicalBytes(statement), signature.sig)) throw new RegistryError("bad-signature", "bad publisher signature", { plugin: label });
  const wasm = await readFile(input.wasmPath);
  if (wasm.byteLength !== statement.wasm.size || sha256Hex(wasm) !== statement.wasm.sha256) {
    throw new RegistryError("mismatch", `${input.wasmPath} is not the module the publisher signed`, { plugin: label });
  }
  if (current.plugins[statement.name]?.versions[statement.version]) {
    throw new RegistryError("usage", `version already published; versions are immutable, publish a new one`, { plugin: label });
  }
  await mkdir(join(dir, "blobs"), { recursive: true });
  await copyFile(input.wasmPath, join(dir, LAYOUT.blob(statement.wasm.sha256)));
  return updateIndex(
    dir,
    input.signers,
    (index) => {
      const entry = (index.plugins[statement.name] ??= { versions: {} });
      entry.versions[statement.version] = { ...statement, publisher: signature, vetting: input.vetting, yanked: false };
    },
    input,
  );
}

/** Maps a Packer source address to a plugin of this registry (signed in the index like everything else). */
export async function aliasPlugin(dir: string, source: string, name: string, signers: Signers, opts: WriteOptions = {}): Promise<IndexSigned> {
  return updateIndex(
    dir,
    signers,
    (index) => {
      if (!index.plugins[name]) throw new RegistryError("not-found", `not published in this registry`, { plugin: name });
      index.aliases = { ...(index.aliases ?? {}), [source.toLowerCase()]: name };
    },
    opts,
  );
}

export async function yankPlugin(dir: string, name: string, version: string, signers: Signers, opts: WriteOptions = {}): Promise<IndexSigned> {
  return updateIndex(
    dir,
    signers,
    (index) => {
      const pv = index.plugins[name]?.versions[version];
      if (!pv) throw new RegistryError("not-found", `version ${version} is not published`, { plugin: name });
      pv.yanked = true;
    },
    opts,
  );
}

/** Writes a statement file next to nothing in particular; used by the CLI. */
export async function writeStatement(path: string, signed: SignedStatement): Promise<void> {
  await writeFileAtomic(path, jsonText(signed));
}

