// The plugin catalog: embedded first-party plugins and installed ones, all loaded the same way
// (bytes -> sandbox -> describe). `describe` results are cached per module (SHA-256 of the bytes);
// the sandbox that answered describe is handed to the first instance of that plugin, so a build's
// first plugin instance costs one process start, not two.
import { EMBEDDED_PLUGINS } from "./embedded/index.ts";
import { DescriptionSchema, parseOutput, toDescription } from "./abi.ts";
import { notProvidedReason } from "./not-provided.ts";
import { KNOWN_CAPABILITIES } from "./host/context.ts";
import { withLimits, type PluginLimits } from "./limits.ts";
import { SandboxCallError, SandboxProcess } from "./sandbox/parent.ts";
import { PluginRuntime, pluginFailure } from "./runtime.ts";
import { WasmPostProcessor, WasmProvisioner } from "./instances.ts";
import type { PluginCatalog, PluginDescription, PluginKind, PostProcessor, Provisioner } from "./types.ts";
import { basename } from "node:path";
import { undeclaredImport } from "./sandbox/import-capabilities.ts";
import { UserError } from "../errors/diagnostic.ts";

/** Where `describe` answers are kept across runs, by the module's sha256 (the registry's cache). */
export interface DescriptionStore {
  get(sha256: string): Promise<string | undefined>;
  put(sha256: string, describeOutput: string): Promise<void>;
}

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

const describeCache = new Map<string, PluginDescription>();

function key(kind: PluginKind, type: string): string {
  return `${kind}:${type}`;
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

export class WasmPluginCatalog implements PluginCatalog {
  private readonly entries = new Map<string, Entry>();
  private readonly runtimes = new Set<PluginRuntime>();
  /** A described sandbox waiting to be used by the first instance. */
  private readonly idle = new Map<string, SandboxProcess>();
  /** describe calls in flight, so concurrent callers share one sandbox start. */
  private readonly describing = new Map<string, Promise<PluginDescription>>();
  readonly limits: PluginLimits;
  private readonly descriptions: DescriptionStore | undefined;
  readonly allowedPaths: readonly string[];

  constructor(opts: CatalogOptions = {}) {
    this.limits = withLimits(opts.limits);
    this.descriptions = opts.descriptions;
    this.allowedPaths = opts.allowedPaths ?? [];
    if (opts.embedded !== false) {
      for (const p of EMBEDDED_PLUGINS) {
        this.entries.set(key(p.kind, p.name), {
          kind: p.kind,
          name: p.name,
          origin: "embedded",
          grants: "declared",
          bytes: async () => {
            let path: string;
            try {
              path = await p.file();
            } catch {
              throw new UserError(`embedded plugin ${p.name} is not built: run \`bun run build:plugins\``);
            }
            return new Uint8Array(await Bun.file(path).arrayBuffer());
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
    const description = await this.describeBytes(label, bytes);
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
    const d = await this.describeBytes(e.unloaded?.label ?? type, bytes, key(kind, type));
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

  /** Runs `describe` in a fresh sandbox (cached per module hash); keeps the sandbox for reuse. */
  private async describeBytes(label: string, bytes: Uint8Array, idleKey?: string): Promise<PluginDescription> {
    const hash = sha256(bytes);
    const cached = describeCache.get(hash);
    if (cached) return cached;
    // An answer kept on disk for these exact bytes: no sandbox is started to describe them again.
    const stored = await this.descriptions?.get(hash).catch(() => undefined);
    if (stored !== undefined) {
      const parsed = parseOutput(DescriptionSchema, "describe", stored);
      if (parsed.ok) {
        const d = toDescription(parsed.value);
        describeCache.set(hash, d);
        return d;
      }
    }
    const sandbox = await SandboxProcess.start(label, bytes, this.limits).catch((e: unknown) => {
      throw pluginFailure(label, e instanceof SandboxCallError ? e.detail : e instanceof Error ? e.message : String(e));
    });
    const runtime = new PluginRuntime(label, bytes, this.limits, new Set(), sandbox);
    let out: string;
    try {
      out = await runtime.call("describe", {}, "describe", {}, new AbortController().signal);
    } catch (e) {
      await runtime.close();
      throw e;
    }
    const parsed = parseOutput(DescriptionSchema, "describe", out);
    if (!parsed.ok) {
      await runtime.close();
      throw pluginFailure(label, parsed.message);
    }
    const d = toDescription(parsed.value);
    const needed = d.kind === "provisioner" ? ["prepare", "provision"] : ["configure", "post_process"];
    const missing = needed.filter((f) => !sandbox.exports.includes(f));
    if (missing.length > 0) {
      await runtime.close();
      throw pluginFailure(d.name, `a ${d.kind} must export ${needed.join(" and ")}; the module lacks ${missing.join(" and ")}`);
    }
    const unknown = d.capabilities.filter((c) => !(KNOWN_CAPABILITIES as readonly string[]).includes(c));
    if (unknown.length > 0) {
      await runtime.close();
      throw pluginFailure(d.name, `declares unknown capabilities: ${unknown.join(", ")}`);
    }
    const undeclared = undeclaredImport(sandbox.imports, d.capabilities);
    if (undeclared) {
      await runtime.close();
      throw pluginFailure(d.name, undeclared);
    }
    describeCache.set(hash, d);
    await this.descriptions?.put(hash, out).catch(() => undefined);
    const k = idleKey ?? key(d.kind, d.name);
    if (sandbox.alive && !this.idle.has(k)) this.idle.set(k, sandbox);
    else await runtime.close();
    return d;
  }

  private async runtimeFor(kind: PluginKind, type: string): Promise<{ description: PluginDescription; runtime: PluginRuntime }> {
    const description = await this.describe(kind, type);
    const e = this.entry(kind, type);
    const bytes = await e.bytes();
    const declared = new Set(description.capabilities);
    const granted = e.grants === "declared" ? declared : new Set([...declared].filter((c) => (e.grants as ReadonlySet<string>).has(c)));
    const k = key(kind, type);
    const sandbox = this.idle.get(k) ?? null;
    this.idle.delete(k);
    const limits = e.limits ?? this.limits;
    // A sandbox started for describe ran under the catalog's limits: a plugin with its own starts fresh.
    const reuse = sandbox?.alive && e.limits === undefined ? sandbox : null;
    if (sandbox && !reuse) sandbox.kill();
    const runtime = new PluginRuntime(description.name, bytes, limits, granted, reuse);
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
    const pids = [...this.idle.values()].filter((s) => s.alive).map((s) => s.pid);
    for (const r of this.runtimes) pids.push(...r.pids);
    return pids;
  }

  async closeAll(): Promise<void> {
    const idle = [...this.idle.values()];
    this.idle.clear();
    for (const s of idle) s.kill();
    const runtimes = [...this.runtimes];
    this.runtimes.clear();
    await Promise.all([...idle.map((s) => s.exited), ...runtimes.map((r) => r.close())]);
  }
}

export function createPluginCatalog(opts: CatalogOptions = {}): WasmPluginCatalog {
  return new WasmPluginCatalog(opts);
}
