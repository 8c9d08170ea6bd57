// Turning "namespace/name + constraint (+ what the lock says)" into a verified module in the cache
// and a lock entry. Shared by `imgb init` (many plugins, a template's lock) and
// `imgb plugins install` (one plugin, the user's installed list).
import type { Ui } from "../ui/types.ts";
import { approveCapabilities } from "./approve.ts";
import { readCachedWasm } from "./cache.ts";
import { capabilityEscalation, sortedUnique } from "./capabilities.ts";
import { RegistryClient, type TrustedMetadata } from "./client.ts";
import { defaultCacheDir, resolveRegistryConfig, type RegistryConfig, type RegistryOptions } from "./config.ts";
import { highestSatisfying, satisfies, type Constraint } from "./constraints.ts";
import { RegistryError } from "./errors.ts";
import type { LockEntry } from "./lock.ts";
import { compareSemVer, parseSemVer } from "./semver.ts";
import { checkGrants, hasStatement, storeStatement } from "./grants.ts";

export type ResolveAction = "kept" | "installed" | "upgraded";

export interface ResolveOutcome {
  name: string;
  entry: LockEntry;
  action: ResolveAction;
  wasmPath: string;
}

export interface ResolverOptions {
  upgrade: boolean;
  /** Allow -upgrade to move to an older version without asking (-accept-downgrade). */
  acceptDowngrade?: boolean;
  acceptCapabilities: boolean;
  ui: Ui;
  registry?: RegistryOptions;
}

export class Resolver {
  private session: Promise<{ client: RegistryClient; meta: TrustedMetadata }> | undefined;
  readonly cacheDir: string;

  /**
   * `open` names the registry (a configured one, core/registry/sources.ts); without it, the one
   * given by `opts.registry` or IMGB_REGISTRY_URL.
   */
  constructor(
    private readonly opts: ResolverOptions,
    private readonly open: (cacheDir: string) => Promise<RegistryConfig> = (cacheDir) => resolveRegistryConfig({ ...opts.registry, cacheDir }),
  ) {
    this.cacheDir = opts.registry?.cacheDir ?? defaultCacheDir(opts.registry?.env ?? process.env);
  }

  /** Contacts the registry once per resolver, and only when some plugin needs it. */
  registry(): Promise<{ client: RegistryClient; meta: TrustedMetadata }> {
    this.session ??= (async () => {
      const config = await this.open(this.cacheDir);
      const client = new RegistryClient(config);
      return { client, meta: await client.refresh() };
    })();
    return this.session;
  }

  /** Whether the registry's verified index lists the plugin. */
  async offers(name: string): Promise<boolean> {
    const { meta } = await this.registry();
    return meta.index.plugins[name] !== undefined;
  }

  /** The plugin the registry's signed index names for a Packer source address, if any. */
  async alias(sourceAddress: string): Promise<string | undefined> {
    const { meta } = await this.registry();
    return meta.index.aliases?.[sourceAddress.toLowerCase()];
  }

  async resolve(name: string, localName: string, constraint: Constraint, locked: LockEntry | undefined): Promise<ResolveOutcome> {
    const lockedVersion = locked ? parseSemVer(locked.version) : undefined;
    // An unsigned local install is not in any registry: -upgrade cannot replace it, so it stays.
    const keep = locked !== undefined && lockedVersion !== undefined && (!this.opts.upgrade || !locked.signed) && satisfies(constraint, lockedVersion);
    if (keep && locked) {
      const cached = await readCachedWasm(this.cacheDir, locked.sha256, name);
      // A signed module cached before its statement was kept (an older imgb) is fetched again below.
      if (cached && (!locked.signed || (await hasStatement(this.cacheDir, locked.sha256)))) {
        // A kept entry keeps only what was signed: an edited lock is refused here too, not carried on.
        await checkGrants(this.cacheDir, name, locked, 'run "imgb init -upgrade" to install it again from the registry');
        return { name, entry: { ...locked, localName, constraints: constraint.text }, action: "kept", wasmPath: cached.path };
      }
      if (!locked.signed) {
        throw new RegistryError("unsigned", `unsigned module ${locked.sha256.slice(0, 16)}… is no longer in the cache; install it again with "imgb plugins install --allow-unsigned"`, { plugin: name });
      }
    }
    const { client, meta } = await this.registry();
    const where = { registry: client.config.url, plugin: name };
    const available = meta.index.plugins[name];
    if (!available) throw new RegistryError("not-found", "not in the registry", where);
    let version: string | undefined;
    if (keep && locked) {
      version = locked.version;
    } else {
      const candidates = Object.entries(available.versions)
        .filter(([, pv]) => !pv.yanked)
        .map(([ver]) => ver);
      version = highestSatisfying(constraint, candidates);
      if (version === undefined) {
        throw new RegistryError("not-found", `no version satisfies "${constraint.text}" (available: ${candidates.join(", ") || "none"})`, where);
      }
    }
    const pv = client.entry(meta.index, name, version);
    if (keep && locked && pv.wasm.sha256 !== locked.sha256) {
      throw new RegistryError("mismatch", `the registry now serves a different module for locked version ${version} (sha256 ${pv.wasm.sha256.slice(0, 16)}…, locked ${locked.sha256.slice(0, 16)}…); published versions must never change`, where);
    }
    if (pv.yanked) this.opts.ui.error(`plugin ${name} ${version} has been yanked by the registry; consider "imgb init -upgrade"`);

    const granted = locked?.capabilities ?? [];
    const added = capabilityEscalation(granted, pv.capabilities);
    const from = locked && locked.version !== version ? locked.version : undefined;
    if (from !== undefined) this.opts.ui.say(`${name}: ${from} -> ${version}`);
    const fromVersion = from !== undefined ? parseSemVer(from) : undefined;
    const toVersion = parseSemVer(version);
    if (fromVersion && toVersion && compareSemVer(toVersion, fromVersion) < 0) {
      // -upgrade never moves down silently: the locked version was yanked (or the constraint now excludes it).
      const why = available.versions[from ?? ""]?.yanked ? `the locked version ${from} was yanked by the registry` : `the locked version ${from} no longer satisfies "${constraint.text}"`;
      this.opts.ui.error(`${name}: ${why}; the newest allowed version, ${version}, is OLDER (a downgrade)`);
      await confirmDowngrade(name, from ?? "", version, this.opts.ui, this.opts.acceptDowngrade === true);
    }
    if (added.length > 0 || locked === undefined) {
      const dropped = granted.filter((c) => !pv.capabilities.includes(c));
      await approveCapabilities({ plugin: name, version, ...(from !== undefined ? { from } : {}), wanted: sortedUnique(pv.capabilities), added, dropped, publisher: pv.publisher.keyid, vetting: pv.vetting }, this.opts.ui, this.opts.acceptCapabilities);
    }
    const fetched = await client.fetchWasm(pv);
    const publisherKey = meta.index.publishers[pv.publisher.keyid];
    if (publisherKey) await storeStatement(this.cacheDir, pv, publisherKey);
    const entry: LockEntry = {
      localName,
      version,
      constraints: constraint.text,
      sha256: pv.wasm.sha256,
      size: pv.wasm.size,
      signed: true,
      registry: client.config.url,
      registryId: client.id,
      publisher: pv.publisher.keyid,
      capabilities: sortedUnique(pv.capabilities),
      limits: pv.limits,
    };
    const action: ResolveAction = locked === undefined ? "installed" : locked.version === version ? "kept" : "upgraded";
    return { name, entry, action, wasmPath: fetched.path };
  }
}

async function confirmDowngrade(name: string, from: string, to: string, ui: Ui, accepted: boolean): Promise<void> {
  if (accepted) return;
  let answer: string;
  try {
    answer = await ui.ask(`Downgrade ${name} from ${from} to ${to}? [y/N]`);
  } catch {
    throw new RegistryError("not-found", `would downgrade ${from} -> ${to}, and there is no terminal to confirm it; re-run with -accept-downgrade if that is what you want`, { plugin: name });
  }
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new RegistryError("not-found", `downgrade ${from} -> ${to} not confirmed; nothing was changed`, { plugin: name });
}
