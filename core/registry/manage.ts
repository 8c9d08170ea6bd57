// `imgb plugins install|installed|remove|verify`: plugins installed by hand, recorded in the user's
// installed list ($XDG_STATE_HOME/imgb/installed.json) or, with a template directory, in that
// template's lock. Same format, same checks as `imgb init`. A local .wasm is installed only with
// --allow-unsigned and is recorded as unsigned.
import { readFile } from "node:fs/promises";
import type { Ui } from "../ui/types.ts";
import { approveCapabilities } from "./approve.ts";
import { readCachedWasm, removeCachedWasm, storeWasm } from "./cache.ts";
import { KNOWN_CAPABILITIES, sortedUnique, type Capability } from "./capabilities.ts";
import { defaultCacheDir, defaultStateDir, type RegistryOptions } from "./config.ts";
import { parseConstraint } from "./constraints.ts";
import { RegistryError } from "./errors.ts";
import { emptyLock, installedStatePath, lockPath, readLockAt, writeLockAt, type LockEntry } from "./lock.ts";
import { assertPluginName } from "./names.ts";
import { DEFAULT_LIMITS } from "./publish.ts";
import { RegistryResolver } from "./resolvers.ts";
import { parsePluginSource } from "./packer-plugins.ts";
import { withLockFile } from "./file-lock.ts";
import { checkGrants } from "./grants.ts";
import type { Limits } from "./schema.ts";
import { isSemVer } from "./semver.ts";

export interface PluginsTarget {
  registry?: RegistryOptions;
  /** Record in this template's lock instead of the user's installed list. */
  templateDir?: string;
}

function env(t: PluginsTarget) {
  return t.registry?.env ?? process.env;
}
function targetPath(t: PluginsTarget): string {
  return t.templateDir !== undefined ? lockPath(t.templateDir) : installedStatePath(t.registry?.stateDir ?? defaultStateDir(env(t)));
}
function cacheDir(t: PluginsTarget): string {
  return t.registry?.cacheDir ?? defaultCacheDir(env(t));
}

export interface InstallOptions extends PluginsTarget {
  ui: Ui;
  acceptCapabilities: boolean;
  allowUnsigned: boolean;
  upgrade?: boolean;
  /** For a local .wasm: its name, version, and the capabilities to grant it. */
  name?: string;
  version?: string;
  capabilities?: string[];
  limits?: Limits;
}

export interface InstalledPlugin {
  name: string;
  entry: LockEntry;
  wasmPath: string;
}

/** `spec` is `namespace/name[@constraint]` (from the registry) or a path ending in `.wasm`. */
export async function installPlugin(spec: string, opts: InstallOptions): Promise<InstalledPlugin> {
  const path = targetPath(opts);
  return withLockFile(path, () => installLocked(spec, path, opts));
}

async function installLocked(spec: string, path: string, opts: InstallOptions): Promise<InstalledPlugin> {
  const lock = (await readLockAt(path)) ?? emptyLock();
  let name: string;
  let entry: LockEntry;
  let wasmPath: string;
  if (spec.endsWith(".wasm")) {
    ({ name, entry, wasmPath } = await installLocal(spec, opts, lock.plugins));
  } else {
    const at = spec.indexOf("@");
    name = at < 0 ? spec : spec.slice(0, at);
    assertPluginName(name);
    const c = parseConstraint(at < 0 ? "" : spec.slice(at + 1));
    if ("error" in c) throw new RegistryError("usage", c.error, { plugin: name });
    const previous = lock.plugins[name];
    const source = parsePluginSource(name);
    const resolver = new RegistryResolver({ upgrade: opts.upgrade ?? false, acceptCapabilities: opts.acceptCapabilities, ui: opts.ui, registry: { ...opts.registry, cacheDir: cacheDir(opts) }, ...(opts.templateDir !== undefined ? { templateDir: opts.templateDir } : {}) });
    const outcome = source ? await resolver.resolve({ localName: previous?.localName ?? name.slice(name.indexOf("/") + 1), source, constraint: c, ...(previous ? { locked: previous } : {}) }) : undefined;
    if (!outcome || outcome.kind !== "locked") throw new RegistryError("not-found", `no configured registry offers it ("imgb registry list"; add one with "imgb registry add NAME URL --root FILE")`, { plugin: name });
    entry = outcome.entry;
    wasmPath = (await readCachedWasm(cacheDir(opts), entry.sha256, name))?.path ?? "";
  }
  lock.plugins[name] = entry;
  await writeLockAt(path, lock);
  return { name, entry, wasmPath };
}

async function installLocal(file: string, opts: InstallOptions, existing: Record<string, LockEntry>): Promise<InstalledPlugin> {
  if (!opts.allowUnsigned) {
    throw new RegistryError("unsigned", `${file} is a local file: it has no publisher signature and no vetting record; pass --allow-unsigned to install it anyway`);
  }
  const name = opts.name;
  if (name === undefined) throw new RegistryError("usage", `installing ${file} needs --name namespace/name`);
  assertPluginName(name);
  const version = opts.version ?? "0.0.0-local";
  if (!isSemVer(version)) throw new RegistryError("usage", `--version ${JSON.stringify(version)} is not a semantic version`, { plugin: name });
  const unknown = (opts.capabilities ?? []).filter((c) => !(KNOWN_CAPABILITIES as readonly string[]).includes(c));
  if (unknown.length > 0) throw new RegistryError("usage", `unknown capabilities ${unknown.join(", ")} (known: ${KNOWN_CAPABILITIES.join(", ")})`, { plugin: name });
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new RegistryError("usage", `cannot read ${file}: ${(e as Error).message}`, { plugin: name });
  }
  if (!WebAssembly.validate(bytes)) throw new RegistryError("bad-document", `${file} is not a valid WebAssembly module`, { plugin: name });
  // Without --capabilities, what the module declares is offered (with the prompt), not silently nothing.
  const capabilities = sortedUnique((opts.capabilities ?? (await declaredCapabilities(bytes, file, name))) as Capability[]);
  const previous = existing[name];
  const granted = previous?.capabilities ?? [];
  await approveCapabilities(
    { plugin: name, version, wanted: capabilities, added: capabilities.filter((c) => !granted.includes(c)), dropped: [], unsigned: true },
    opts.ui,
    opts.acceptCapabilities,
  );
  const stored = await storeWasm(cacheDir(opts), bytes);
  const entry: LockEntry = {
    localName: previous?.localName ?? name.slice(name.indexOf("/") + 1),
    version,
    constraints: `= ${version}`,
    sha256: stored.sha256,
    size: bytes.byteLength,
    signed: false,
    capabilities,
    limits: opts.limits ?? DEFAULT_LIMITS,
  };
  return { name, entry, wasmPath: stored.path };
}

export async function listInstalled(opts: PluginsTarget = {}): Promise<Array<{ name: string; entry: LockEntry }>> {
  const lock = await readLockAt(targetPath(opts));
  return Object.entries(lock?.plugins ?? {}).map(([name, entry]) => ({ name, entry }));
}

/** Removes the record; the cached module goes too unless the same list still refers to it. */
export async function removePlugin(name: string, opts: PluginsTarget = {}): Promise<LockEntry> {
  const path = targetPath(opts);
  return withLockFile(path, () => removeLocked(name, path, opts));
}

async function removeLocked(name: string, path: string, opts: PluginsTarget): Promise<LockEntry> {
  const lock = await readLockAt(path);
  const entry = lock?.plugins[name];
  if (!lock || !entry) throw new RegistryError("not-found", `not installed (${path})`, { plugin: name });
  delete lock.plugins[name];
  await writeLockAt(path, lock);
  if (!Object.values(lock.plugins).some((e) => e.sha256 === entry.sha256)) await removeCachedWasm(cacheDir(opts), entry.sha256);
  return entry;
}

export type VerifyStatus = "ok" | "missing" | "altered" | "repaired";

/**
 * Re-checks every installed module. With `repair`, a signed module that is missing or altered in
 * the cache (the lock itself being intact) is removed and downloaded again, exactly the locked
 * version and sha256, through the same verification chain.
 */
export async function verifyInstalled(opts: PluginsTarget & { repair?: boolean; ui?: Ui } = {}): Promise<Array<{ name: string; version: string; signed: boolean; status: VerifyStatus; detail?: string }>> {
  const results = await verifyOnce(opts);
  if (!opts.repair) return results;
  const entries = new Map((await listInstalled(opts)).map((e) => [e.name, e.entry]));
  for (const r of results) {
    const entry = entries.get(r.name);
    if (r.status === "ok" || !entry) continue;
    if (!entry.signed) {
      r.detail = `${r.detail ?? ""}; unsigned: no registry can repair it, install the file again`;
      continue;
    }
    if (/signed statement|lock grants|lock's limits|lock names/.test(r.detail ?? "")) continue; // the lock was edited: not a cache fault
    try {
      await removeCachedWasm(cacheDir(opts), entry.sha256);
      const source = parsePluginSource(r.name);
      const c = parseConstraint(`= ${entry.version}`);
      if (!source || "error" in c) continue;
      const resolver = new RegistryResolver({ upgrade: false, acceptCapabilities: false, ui: opts.ui ?? silentUi, registry: { ...opts.registry, cacheDir: cacheDir(opts) }, ...(opts.templateDir !== undefined ? { templateDir: opts.templateDir } : {}) });
      const outcome = await resolver.resolve({ localName: entry.localName, source, constraint: c, locked: entry });
      if (outcome?.kind === "locked" && outcome.entry.sha256 === entry.sha256) {
        r.status = "repaired";
        r.detail = `downloaded again from ${outcome.registry}`;
      }
    } catch (e) {
      r.detail = `${r.detail ?? ""}; repair failed: ${(e as Error).message}`;
    }
  }
  return results;
}

const silentUi: Ui = { say() {}, message() {}, error() {}, ask: () => Promise.reject(new Error("no terminal")), progress: () => ({ update() {}, finish() {} }), machine() {} };

async function verifyOnce(opts: PluginsTarget): Promise<Array<{ name: string; version: string; signed: boolean; status: VerifyStatus; detail?: string }>> {
  const out: Array<{ name: string; version: string; signed: boolean; status: VerifyStatus; detail?: string }> = [];
  for (const { name, entry } of await listInstalled(opts)) {
    try {
      const cached = await readCachedWasm(cacheDir(opts), entry.sha256, name);
      if (!cached) out.push({ name, version: entry.version, signed: entry.signed, status: "missing", detail: "not in the cache" });
      else if (cached.bytes.byteLength !== entry.size || !WebAssembly.validate(cached.bytes)) {
        out.push({ name, version: entry.version, signed: entry.signed, status: "altered", detail: "size or module structure differs" });
      } else {
        await checkGrants(cacheDir(opts), name, entry, "install it again");
        out.push({ name, version: entry.version, signed: entry.signed, status: "ok" });
      }
    } catch (e) {
      out.push({ name, version: entry.version, signed: entry.signed, status: "altered", detail: (e as Error).message });
    }
  }
  return out;
}

/** What a module declares in `describe`, asked in the sandbox (nothing granted). */
async function declaredCapabilities(bytes: Uint8Array, file: string, name: string): Promise<string[]> {
  const { createPluginCatalog } = await import("../plugin/catalog.ts");
  const catalog = createPluginCatalog({ embedded: false });
  try {
    const d = await catalog.registerWasm(bytes, [], "installed", file);
    if (d.name !== name) throw new RegistryError("usage", `${file} describes itself as "${d.name}", not "${name}"`, { plugin: name });
    return d.capabilities.filter((c) => (KNOWN_CAPABILITIES as readonly string[]).includes(c));
  } finally {
    await catalog.closeAll();
  }
}
