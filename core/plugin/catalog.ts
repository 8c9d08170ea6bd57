// The plugin catalog: which plugins a command may use (embedded first-party ones and installed
// ones, by kind and type), what each is granted, and the instance factory that makes a sandboxed
// instance of one. Loading — bytes to a verified description, cached by sha256 — is the loader's
// (core/plugin/loader.ts); pooling instances is the engine's component pipeline's.
import { EMBEDDED_PLUGINS } from "./embedded/index.ts";
import { embeddedPluginBytes } from "./embedded/bytes.ts";
import { notProvidedReason } from "./not-provided.ts";
import { withLimits, type PluginLimits } from "./limits.ts";
import { PluginRuntime, pluginFailure } from "./runtime.ts";
import { WasmPostProcessor, WasmProvisioner } from "./instances.ts";
import { PluginLoader, type DescriptionStore } from "./loader.ts";
import type { PluginCatalog, PluginDescription, PluginKind, PostProcessor, Provisioner } from "./types.ts";
import { basename } from "node:path";
import { UserError } from "../errors/diagnostic.ts";

export type { DescriptionStore };

export interface CatalogOptions {
  limits?: Partial<PluginLimits>;
  descriptions?: DescriptionStore;
  /** Include the plugins built into imgb (default true). */
  embedded?: boolean;
  /** Folders the user granted for reading with -allow-path (absolute). */
  allowedPaths?: readonly string[];
}

interface Entry {
  kind: PluginKind;
  name: string;
  origin: "embedded" | "installed";
  /** For installed plugins: what the user or the registry granted. Embedded: everything declared. */
  grants: ReadonlySet<string> | "declared";
  bytes: () => Promise<Uint8Array>;
  description?: PluginDescription;
  /** This plugin's own limits (a lock's signed limits); the catalog's otherwise. */
  limits?: PluginLimits;
  /** Registered without loading (registerUnloaded): the kind is not known until first use. */
  unloaded?: { label: string };
}

function key(kind: PluginKind, type: string): string {
  return `${kind}:${type}`;
}

export class WasmPluginCatalog implements PluginCatalog {
  private readonly entries = new Map<string, Entry>();
  private readonly runtimes = new Set<PluginRuntime>();
  /** describe calls in flight, so concurrent callers share one sandbox start. */
  private readonly describing = new Map<string, Promise<PluginDescription>>();
  readonly limits: PluginLimits;
  private readonly loader: PluginLoader;
  readonly allowedPaths: readonly string[];

  constructor(opts: CatalogOptions = {}) {
    this.limits = withLimits(opts.limits);
    this.loader = new PluginLoader(this.limits, opts.descriptions);
    this.allowedPaths = opts.allowedPaths ?? [];
    if (opts.embedded !== false) {
      for (const p of EMBEDDED_PLUGINS) {
        this.entries.set(key(p.kind, p.name), {
          kind: p.kind,
          name: p.name,
          origin: "embedded",
          grants: "declared",
          bytes: async () => {
            const bytes = await embeddedPluginBytes(p.folder);
            if (!bytes) throw new UserError(`embedded plugin ${p.name} is not built: run \`bun run build:plugins\``);
            return bytes;
          },
        });
      }
    }
  }

  /**
   * Registers a plugin from a verified .wasm file (the registry calls this for locked, verified
   * installs). `granted` are the capabilities the user or the lock file grants; the plugin gets the
   * intersection with what it declares. Returns its description; it replaces an earlier plugin of
   * the same kind and type.
   */
  async registerInstalledPlugin(wasmPath: string, granted: readonly string[]): Promise<PluginDescription> {
    const bytes = new Uint8Array(await Bun.file(wasmPath).arrayBuffer());
    return this.registerWasm(bytes, granted, "installed", basename(wasmPath));
  }

  /** Registers a plugin from its bytes (same path as installed plugins). */
  async registerWasm(
    bytes: Uint8Array,
    granted: readonly string[] | "declared",
    origin: "embedded" | "installed" = "installed",
    label = "(unnamed)",
    limits?: Partial<PluginLimits>,
  ): Promise<PluginDescription> {
    const description = await this.loader.describe(label, bytes);
    const entry: Entry = {
      kind: description.kind,
      name: description.name,
      origin,
      grants: granted === "declared" ? "declared" : new Set(granted),
      bytes: async () => bytes,
      description,
      ...(limits ? { limits: { ...this.limits, ...limits } } : {}),
    };
    this.entries.set(key(description.kind, description.name), entry);
    return description;
  }

  /**
   * Registers a verified module under the name its lock entry gives, without loading it: a command
   * loads (and describes) only the plugins its template uses (docs/plugin-abi.md §6). The name is
   * registered for both kinds; the first use checks the module's own description against it.
   * `aliases` are further type names for it (Packer's: the local name in required_plugins); a
   * built-in component keeps its name, never shadowed through an alias. `limits` are the plugin's own
   * (a lock's signed limits), used for its sandbox instead of the catalog's.
   */
  registerUnloaded(name: string, bytes: Uint8Array, granted: readonly string[], label = name, opts: { aliases?: readonly string[]; limits?: Partial<PluginLimits> } = {}): void {
    for (const kind of ["provisioner", "post-processor"] as const) {
      const entry: Entry = {
        kind,
        name,
        origin: "installed",
        grants: new Set(granted),
        bytes: async () => bytes,
        unloaded: { label },
        ...(opts.limits ? { limits: { ...this.limits, ...opts.limits } } : {}),
      };
      this.entries.set(key(kind, name), entry);
      for (const alias of opts.aliases ?? []) {
        if (alias === name || this.entries.get(key(kind, alias))?.origin === "embedded") continue;
        this.entries.set(key(kind, alias), entry);
      }
    }
  }

  has(kind: PluginKind, type: string): boolean {
    return this.entries.has(key(kind, type));
  }

  /** Types known to the catalog, for `imgb plugins` listings and error messages. */
  list(): Array<{ kind: PluginKind; name: string; origin: "embedded" | "installed" }> {
    return [...this.entries.values()].map((e) => ({ kind: e.kind, name: e.name, origin: e.origin }));
  }

  private entry(kind: PluginKind, type: string): Entry {
    const e = this.entries.get(key(kind, type));
    if (!e) {
      const why = notProvidedReason(kind, type);
      throw new UserError(`Unknown ${kind} ${type}${why ? `: ${why}` : ""}`);
    }
    return e;
  }

  async describe(kind: PluginKind, type: string): Promise<PluginDescription> {
    const e = this.entry(kind, type);
    if (e.description) return e.description;
    const k = key(kind, type);
    const pending = this.describing.get(k);
    if (pending) return pending;
    const p = this.describeEntry(e, kind, type).finally(() => this.describing.delete(k));
    this.describing.set(k, p);
    return p;
  }

  private async describeEntry(e: Entry, kind: PluginKind, type: string): Promise<PluginDescription> {
    const bytes = await e.bytes();
    const d = await this.loader.describe(e.unloaded?.label ?? type, bytes);
    // The entry's own name: an alias (a required_plugins local name) is checked against the name it stands for.
    if (e.unloaded && d.name !== e.name) {
      throw new UserError(`plugin ${e.unloaded.label}: the module describes itself as "${d.name}", not "${e.name}"; refusing to load it`);
    }
    if (e.unloaded && d.kind !== kind) {
      throw new UserError(`plugin ${e.unloaded.label} is a ${d.kind}, not a ${kind}`);
    }
    if (d.kind !== kind || d.name !== e.name) {
      throw pluginFailure(type, `describes itself as ${d.kind} ${JSON.stringify(d.name)}, expected ${kind} ${JSON.stringify(type)}`);
    }
    e.description = d;
    return d;
  }

  private async runtimeFor(kind: PluginKind, type: string): Promise<{ description: PluginDescription; runtime: PluginRuntime }> {
    const description = await this.describe(kind, type);
    const e = this.entry(kind, type);
    const bytes = await e.bytes();
    const declared = new Set(description.capabilities);
    const granted = e.grants === "declared" ? declared : new Set([...declared].filter((c) => (e.grants as ReadonlySet<string>).has(c)));
    // The sandbox starts on the first call, under this plugin's own limits (a lock's) or the catalog's.
    const runtime = new PluginRuntime(description.name, bytes, e.limits ?? this.limits, granted);
    runtime.allowedPaths = this.allowedPaths;
    this.runtimes.add(runtime);
    return { description, runtime };
  }

  async provisioner(type: string): Promise<Provisioner> {
    const { description, runtime } = await this.runtimeFor("provisioner", type);
    return new WasmProvisioner(description, runtime);
  }

  async postProcessor(type: string): Promise<PostProcessor> {
    const { description, runtime } = await this.runtimeFor("post-processor", type);
    return new WasmPostProcessor(description, runtime);
  }

  /** Pids of every live sandbox process (for tests: nothing may be left behind). */
  sandboxPids(): number[] {
    return [...this.runtimes].flatMap((r) => r.pids);
  }

  async closeAll(): Promise<void> {
    const runtimes = [...this.runtimes];
    this.runtimes.clear();
    await Promise.all(runtimes.map((r) => r.close()));
  }
}

export function createPluginCatalog(opts: CatalogOptions = {}): WasmPluginCatalog {
  return new WasmPluginCatalog(opts);
}
