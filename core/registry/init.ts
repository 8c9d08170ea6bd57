// `imgb init`: resolve a template's required_plugins against the registry, verify and cache them,
// get capability approval, and write the lock file next to the template. `lockedPlugins` is what
// `imgb build` calls: the verified modules and their grants, with no network at all.
import { DiagnosticsError, errorDiag, type Diagnostic } from "../errors/diagnostic.ts";
import type { RequiredPlugin } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import { readCachedWasm } from "./cache.ts";
import { defaultCacheDir, defaultStateDir, type RegistryOptions } from "./config.ts";
import { parseConstraint, type Constraint } from "./constraints.ts";
import { RegistryError } from "./errors.ts";
import { emptyLock, installedStatePath, lockPath, readLock, readLockAt, writeLock } from "./lock.ts";
import { parsePluginSource, type PluginSource } from "./packer-plugins.ts";
import type { ResolveAction } from "./resolve.ts";
import { defaultResolvers, type PluginResolver, type Resolution } from "./resolvers.ts";
import { withLockFile } from "./file-lock.ts";
import { checkGrants } from "./grants.ts";
import type { Limits } from "./schema.ts";

export interface InitPluginsOptions {
  upgrade: boolean;
  /** -accept-downgrade: -upgrade may move to an older version (the locked one was yanked) without asking. */
  acceptDowngrade?: boolean;
  acceptCapabilities: boolean;
  ui: Ui;
  /** Registry URL, trusted root, state and cache dirs, clock; defaults from the environment. */
  registry?: RegistryOptions;
}

export interface InitPluginResult {
  name: string;
  localName: string;
  version: string;
  action: ResolveAction | "builtin";
  /** Which resolver provided it. */
  provider: "builtin" | "registry" | "other";
  capabilities: string[];
  signed: boolean;
}

export interface LockedPlugin {
  /** Registry name, `namespace/name`: the component type templates use. */
  name: string;
  localName: string;
  version: string;
  /** The module in the content-addressed cache; its sha256 was re-checked just now. */
  wasmPath: string;
  /** The verified bytes themselves: registering these (catalog.registerWasm) leaves no window
   *  between the hash check and the read. */
  bytes: Uint8Array;
  sha256: string;
  /** Capabilities the user granted; the runtime must grant no more than these. */
  capabilities: string[];
  limits: Limits;
  signed: boolean;
}

function checkRequired(required: RequiredPlugin[]): Array<{ req: RequiredPlugin; source: PluginSource; constraint: Constraint }> {
  const diags: Diagnostic[] = [];
  const out: Array<{ req: RequiredPlugin; source: PluginSource; constraint: Constraint }> = [];
  const seen = new Map<string, RequiredPlugin>();
  for (const req of required) {
    const source = parsePluginSource(req.source);
    if (!source) {
      diags.push(errorDiag(`Invalid plugin source ${JSON.stringify(req.source)}`, req.range, `required plugin "${req.localName}": expected HOSTNAME/NAMESPACE/TYPE, e.g. "github.com/hashicorp/${req.localName}"`));
      continue;
    }
    const key = source.registryName ?? source.address.toLowerCase();
    if (seen.has(key)) {
      diags.push(errorDiag(`Duplicate required plugin ${req.source}`, req.range, `also required as "${seen.get(key)?.localName}"`));
      continue;
    }
    seen.set(key, req);
    const c = parseConstraint(req.versionConstraint);
    if ("error" in c) {
      diags.push(errorDiag(`Invalid version constraint for ${req.source}`, req.range, c.error));
      continue;
    }
    out.push({ req, source, constraint: c });
  }
  if (diags.length > 0) throw new DiagnosticsError(diags);
  return out;
}

/**
 * Resolves every required plugin through the resolver chain (resolvers.ts), then writes the lock
 * (registry plugins only) once all succeeded. A plugin nothing provides is an error naming it and
 * what each resolver could have offered.
 */
export async function initPlugins(required: RequiredPlugin[], templateDir: string, opts: InitPluginsOptions, resolvers?: PluginResolver[]): Promise<InitPluginResult[]> {
  const wanted = checkRequired(required);
  const chain = resolvers ?? defaultResolvers({ upgrade: opts.upgrade, acceptDowngrade: opts.acceptDowngrade === true, acceptCapabilities: opts.acceptCapabilities, ui: opts.ui, templateDir, ...(opts.registry ? { registry: opts.registry } : {}) });
  return withLockFile(lockPath(templateDir), async () => {
    const lock = (await readLock(templateDir)) ?? emptyLock();
    const next = emptyLock();
    const results: InitPluginResult[] = [];
    for (const { req, source, constraint } of wanted) {
      // By the mapped name, or (a registry alias) by the local name the lock recorded.
      const byName = source.registryName !== undefined ? lock.plugins[source.registryName] : undefined;
      const byLocal = byName ? undefined : Object.entries(lock.plugins).find(([, e]) => e.source !== undefined && e.source.toLowerCase() === source.address.toLowerCase());
      const locked = byName ?? byLocal?.[1];
      let resolution: Resolution | undefined;
      for (const r of chain) {
        resolution = await r.resolve({ localName: req.localName, source, constraint, ...(locked ? { locked } : {}), ...(byLocal ? { lockedName: byLocal[0] } : {}) });
        if (resolution) break;
      }
      if (!resolution) {
        const can = chain.map((r) => `  - ${r.name}: ${r.offers}`).join("\n");
        throw new RegistryError(
          "not-found",
          `required as "${req.localName}" (${req.versionConstraint || "any version"}), but nothing provides it. What imgb can do:\n${can}`,
          { plugin: req.source },
        );
      }
      if (resolution.kind === "locked") {
        next.plugins[resolution.name] = resolution.name === source.registryName ? resolution.entry : { ...resolution.entry, source: source.address };
        results.push({ name: resolution.name, localName: req.localName, version: resolution.entry.version, action: resolution.action, capabilities: resolution.entry.capabilities, signed: resolution.entry.signed, provider: "registry" });
      } else {
        results.push({ name: req.source, localName: req.localName, version: "", action: "builtin", capabilities: [], signed: true, provider: resolution.kind === "builtin" ? "builtin" : "other" });
      }
      opts.ui.message(`${req.source}: ${resolution.summary}`);
    }
    // Written only after every plugin resolved: a refusal leaves the previous lock untouched.
    if (Object.keys(next.plugins).length > 0 || Object.keys(lock.plugins).length > 0) await writeLock(templateDir, next);
    return results;
  });
}

export interface LockedPluginsOptions {
  cacheDir?: string;
  env?: Record<string, string | undefined>;
}

export async function lockedPlugins(templateDir: string, opts: LockedPluginsOptions = {}): Promise<LockedPlugin[]> {
  return verifiedEntries(lockPath(templateDir), `run "imgb init" in ${templateDir}`, opts);
}

/** The same for plugins installed with `imgb plugins install` outside any template. */
export async function installedPlugins(opts: LockedPluginsOptions & { stateDir?: string } = {}): Promise<LockedPlugin[]> {
  const stateDir = opts.stateDir ?? defaultStateDir(opts.env ?? process.env);
  return verifiedEntries(installedStatePath(stateDir), 'run "imgb plugins install" again', opts);
}

async function verifiedEntries(path: string, remedy: string, opts: LockedPluginsOptions): Promise<LockedPlugin[]> {
  const lock = await readLockAt(path);
  if (!lock) return [];
  const cacheDir = opts.cacheDir ?? defaultCacheDir(opts.env ?? process.env);
  const out: LockedPlugin[] = [];
  for (const [name, e] of Object.entries(lock.plugins)) {
    const cached = await readCachedWasm(cacheDir, e.sha256, name);
    if (!cached) {
      throw new RegistryError("lock", `recorded in ${path} but not in the plugin cache; ${remedy}`, { plugin: `${name} ${e.version}` });
    }
    await checkGrants(cacheDir, name, e, remedy);
    out.push({ name, localName: e.localName, version: e.version, wasmPath: cached.path, bytes: cached.bytes, sha256: e.sha256, capabilities: e.capabilities, limits: e.limits, signed: e.signed });
  }
  return out;
}
