// The registry client: brings the trusted root up to date, then timestamp, then index, checking
// each against the previous (TUF's order), and downloads plugin modules into the cache.
//   root:      walk <N+1>.root.json until 404; each must chain (verify.ts verifyNextRoot)
//   timestamp: signed by the timestamp role, not older than seen, not expired
//   index:     exactly the bytes the timestamp pins (mix-and-match), signed, not older, not expired
//   plugin:    publisher signature by a key the index trusts for the namespace, then sha256+size
// Versions seen are persisted only after the whole chain verified.
import { RegistryError } from "./errors.ts";
import { CAPS } from "./download.ts";
import { LAYOUT } from "./layout.ts";
import { readCachedWasm, storeWasm } from "./cache.ts";
import type { RegistryConfig } from "./config.ts";
import type { IndexSigned, PluginVersion, RootEnvelope, RootSigned, TimestampSigned } from "./schema.ts";
import { loadIdentity, loadMemory, registryId, saveIdentity, saveMemory, type RegistryMemory } from "./state.ts";
import { checkRootFresh, parseRoot, verifyIndex, verifyNextRoot, verifyPublisher, verifySelfSignedRoot, verifyTimestamp, verifyWasmBytes } from "./verify.ts";

/** At most this many root rotations are walked in one refresh (a server could offer endless roots). */
const MAX_ROOT_STEPS = 256;

export interface TrustedMetadata {
  root: RootSigned;
  rootEnvelope: RootEnvelope;
  /** Every root version fetched during this refresh (for mirroring). */
  newRoots: { version: number; bytes: Uint8Array }[];
  timestamp: TimestampSigned;
  timestampBytes: Uint8Array;
  index: IndexSigned;
  indexBytes: Uint8Array;
}

export class RegistryClient {
  /** The registry's identity: the hash of its first root, known after `refresh` (see `identity`). */
  id: string;
  private readonly where: { registry: string };

  constructor(readonly config: RegistryConfig) {
    this.id = registryId(config.trustedRoot);
    this.where = { registry: config.url };
  }

  private fetch(file: string, cap: number, what: string, where: { registry: string; plugin?: string } = this.where): Promise<Uint8Array | undefined> {
    return this.config.transport.get(file, cap, what, where);
  }

  private async startingRoot(memory: RegistryMemory): Promise<RootEnvelope> {
    const configured = this.config.trustedRoot;
    if (memory.root && memory.root.signed.version > configured.signed.version) return memory.root;
    return configured;
  }

  /**
   * Rollback memory is kept per registry identity: the hash of the registry's first root. A user who
   * trusts a later root (after a rotation) shares the memory of everyone who trusted an earlier one,
   * so a replayed older timestamp or index is refused after a rotation too. For a trusted root of
   * version N > 1, the chain 1..N is fetched once, verified to end at exactly the trusted root, and
   * the identity remembered.
   */
  async identity(): Promise<string> {
    const trusted = this.config.trustedRoot;
    const own = registryId(trusted);
    if (trusted.signed.version === 1) return own;
    const known = await loadIdentity(this.config.stateDir, own);
    if (known !== undefined) return known;
    let prev: RootSigned | undefined;
    let first: RootEnvelope | undefined;
    for (let n = 1; n <= trusted.signed.version; n++) {
      const bytes = await this.fetch(LAYOUT.versionedRoot(n), CAPS.root, `root version ${n}`);
      if (bytes === undefined) {
        throw new RegistryError("not-found", `root version ${n} is missing: the registry must keep its whole root history (needed once to know the registry's identity)`, this.where);
      }
      const env = parseRoot(bytes, `root version ${n}`, this.where);
      prev = prev === undefined ? verifySelfSignedRoot(env, `root version ${n}`, this.where) : verifyNextRoot(prev, env, this.where);
      first ??= env;
    }
    if (!first || !prev || registryId({ signed: prev }) !== own) {
      throw new RegistryError("bad-signature", `the registry's root history does not lead to the trusted root (${this.config.rootSource})`, this.where);
    }
    const id = registryId(first);
    await saveIdentity(this.config.stateDir, own, id);
    return id;
  }

  async refresh(): Promise<TrustedMetadata> {
    const now = this.config.now();
    this.id = await this.identity();
    const memory = await loadMemory(this.config.stateDir, this.id);
    let rootEnvelope = await this.startingRoot(memory);
    let root = rootEnvelope.signed;
    if (root.version < memory.seen.rootVersion) {
      throw new RegistryError("rollback", `trusted root version ${root.version} is older than version ${memory.seen.rootVersion} already seen`, this.where);
    }
    const newRoots: TrustedMetadata["newRoots"] = [];
    for (let step = 0; step < MAX_ROOT_STEPS; step++) {
      const n = root.version + 1;
      const bytes = await this.fetch(LAYOUT.versionedRoot(n), CAPS.root, `root version ${n}`);
      if (bytes === undefined) break;
      const next = parseRoot(bytes, `root version ${n}`, this.where);
      root = verifyNextRoot(root, next, this.where);
      rootEnvelope = next;
      newRoots.push({ version: n, bytes });
    }
    checkRootFresh(root, now, this.where);
    if (newRoots.length > 0) {
      // A rotated root is trusted as soon as its chain verified, even if a later step fails.
      memory.root = rootEnvelope;
      memory.seen.rootVersion = root.version;
      await saveMemory(this.config.stateDir, this.id, memory);
    }

    const tsBytes = await this.fetch(LAYOUT.timestamp, CAPS.timestamp, "timestamp");
    if (tsBytes === undefined) throw new RegistryError("unreachable", `no ${LAYOUT.timestamp} at ${this.config.url}`, this.where);
    const timestamp = verifyTimestamp(root, tsBytes, now, { timestamp: memory.seen.timestampVersion, index: memory.seen.indexVersion }, this.where);

    const indexBytes = await this.fetch(LAYOUT.versionedIndex(timestamp.index.version), Math.min(timestamp.index.length, CAPS.index), `index version ${timestamp.index.version}`);
    if (indexBytes === undefined) throw new RegistryError("unreachable", `index version ${timestamp.index.version} named by the timestamp is missing`, this.where);
    const index = verifyIndex(root, timestamp, indexBytes, now, memory.seen.indexVersion, this.where);

    memory.seen = { rootVersion: root.version, timestampVersion: timestamp.version, indexVersion: index.version };
    await saveMemory(this.config.stateDir, this.id, memory);
    return { root, rootEnvelope, newRoots, timestamp, timestampBytes: tsBytes, index, indexBytes };
  }

  /** The verified entry for name@version (publisher signature checked). */
  entry(index: IndexSigned, name: string, version: string): PluginVersion {
    const pv = index.plugins[name]?.versions[version];
    if (!pv) throw new RegistryError("not-found", `version ${version} is not in the index`, { ...this.where, plugin: name });
    verifyPublisher(index, name, version, pv, this.where);
    return pv;
  }

  /** Downloads (or finds in the cache) the module of a verified entry; returns its cache path. */
  async fetchWasm(pv: PluginVersion): Promise<{ path: string; bytes: Uint8Array }> {
    const where = { ...this.where, plugin: `${pv.name} ${pv.version}` };
    const cached = await readCachedWasm(this.config.cacheDir, pv.wasm.sha256, pv.name);
    if (cached && cached.bytes.byteLength === pv.wasm.size) return cached;
    if (pv.wasm.size > CAPS.wasm) throw new RegistryError("too-large", `declared size ${pv.wasm.size} is over the limit of ${CAPS.wasm} bytes`, where);
    const bytes = await this.fetch(LAYOUT.blob(pv.wasm.sha256), pv.wasm.size, `wasm module (${pv.wasm.size} bytes)`, where);
    if (bytes === undefined) throw new RegistryError("unreachable", `module ${LAYOUT.blob(pv.wasm.sha256)} is missing from the registry`, where);
    verifyWasmBytes(bytes, pv.wasm, where);
    const stored = await storeWasm(this.config.cacheDir, bytes);
    return { path: stored.path, bytes };
  }
}
