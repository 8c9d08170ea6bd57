// The registry client: brings the trusted root up to date, then timestamp, then index, checking
// each against the previous (TUF's order), and downloads plugin modules into the cache.
//   root:      walk <N+1>.root.json until 404; each must chain (verify.ts verifyNextRoot)
//   timestamp: signed by the timestamp role, not older than seen, not expired
//   index:     exactly the bytes the timestamp pins (mix-and-match), signed, not older, not expired
//   plugin:    publisher signature by a key the index trusts for the namespace, then sha256+size
// Versions seen are persisted only after the whole chain verified.
import { RegistryError } from "./errors.ts";
import { CAPS, fetchCapped, registryFileUrl } from "./download.ts";
import { LAYOUT } from "./layout.ts";
import { readCachedWasm, storeWasm } from "./cache.ts";
import type { RegistryConfig } from "./config.ts";
import type { IndexSigned, PluginVersion, RootEnvelope, RootSigned, TimestampSigned } from "./schema.ts";
import { loadMemory, registryId, saveMemory, type RegistryMemory } from "./state.ts";
import { checkRootFresh, parseRoot, verifyIndex, verifyNextRoot, verifyPublisher, verifyTimestamp, verifyWasmBytes } from "./verify.ts";

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
  readonly id: string;
  private readonly where: { registry: string };

  constructor(readonly config: RegistryConfig) {
    this.id = registryId(config.trustedRoot);
    this.where = { registry: config.url };
  }

  private url(file: string): string {
    return registryFileUrl(this.config.url, file);
  }

  private fetch(file: string, cap: number, what: string, where: { registry: string; plugin?: string } = this.where): Promise<Uint8Array | undefined> {
    return fetchCapped(this.url(file), cap, where, what, this.config.timeoutMs);
  }

  private async startingRoot(memory: RegistryMemory): Promise<RootEnvelope> {
    const configured = this.config.trustedRoot;
    if (memory.root && memory.root.signed.version > configured.signed.version) return memory.root;
    return configured;
  }

  async refresh(): Promise<TrustedMetadata> {
    const now = this.config.now();
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
    const bytes = await this.fetch(LAYOUT.blob(pv.wasm.sha256), pv.wasm.size, "wasm module", where);
    if (bytes === undefined) throw new RegistryError("unreachable", `module ${LAYOUT.blob(pv.wasm.sha256)} is missing from the registry`, where);
    verifyWasmBytes(bytes, pv.wasm, where);
    const stored = await storeWasm(this.config.cacheDir, bytes);
    return { path: stored.path, bytes };
  }
}
