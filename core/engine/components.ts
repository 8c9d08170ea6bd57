// The component pipeline: decode + override + prepare of a provisioner or post-processor for one
// build, the same for `validate` and `build` (Packer's HCL2Provisioner: a component keeps the body it
// came from and is prepared again with the build's values right before it runs). Prepare is pure,
// so when the configs decoded with the build's live values are the ones a build's validation
// prepared, that answer is used as it is: a component is prepared once per build, and again only
// when its config uses values first known at run time (build.ID, build.Host, ...).
import type { Diagnostic } from "../errors/diagnostic.ts";
import type { PluginCatalog, PluginKind, PostProcessor, PrepareResult, Provisioner } from "../plugin/types.ts";
import type { BuildContextValues, ConfigBody, PostProcessorSpec, ProvisionerSpec } from "../template/model.ts";
import type { JsonObject } from "../values/json.ts";
import { hasErrors } from "../errors/diagnostic.ts";
import { overrideSchema } from "../config/schema.ts";
import { variablesGivenTo } from "../plugin/host/template-adapter.ts";

type Plugin = Provisioner | PostProcessor;
type PluginOf<K extends PluginKind> = K extends "provisioner" ? Provisioner : PostProcessor;
type SpecOf<K extends PluginKind> = K extends "provisioner" ? ProvisionerSpec : PostProcessorSpec;

/** Instances used only to prepare while validating, shared by every build (Prepare is pure). */
export const VALIDATION = "";

/**
 * The one pool of plugin instances. An instance belongs to a scope: a build (its provisioners and
 * post-processors run one at a time, so one instance per type serves all of them and a process
 * start is saved per component), or validation. A build's first instance of a type takes over the
 * one validation used, so its sandbox is started once. A failed instance is discarded: its state is
 * unknown.
 */
export class PluginPool {
  private readonly instances = new Map<string, Promise<Plugin>>();
  constructor(private readonly catalog: PluginCatalog) {}

  get<K extends PluginKind>(scope: string, kind: K, type: string): Promise<PluginOf<K>> {
    const key = poolKey(scope, kind, type);
    let p = this.instances.get(key);
    if (!p) {
      const idle = poolKey(VALIDATION, kind, type);
      p = scope !== VALIDATION ? this.instances.get(idle) : undefined;
      if (p) this.instances.delete(idle);
      else p = kind === "provisioner" ? this.catalog.provisioner(type) : this.catalog.postProcessor(type);
      this.instances.set(key, p);
      const mine = p;
      p.catch(() => {
        if (this.instances.get(key) === mine) this.instances.delete(key);
      });
    }
    return p as Promise<PluginOf<K>>;
  }

  async discard(scope: string, kind: PluginKind, type: string): Promise<void> {
    const key = poolKey(scope, kind, type);
    const p = this.instances.get(key);
    this.instances.delete(key);
    if (p) await p.then((i) => i.close()).catch(() => undefined);
  }

  /** Closes a scope's instances (a build's, when it ends). */
  async closeScope(scope: string): Promise<void> {
    const prefix = poolKey(scope, "", "").slice(0, -1);
    const keys = [...this.instances.keys()].filter((k) => k.startsWith(prefix));
    await Promise.all(keys.map((k) => this.closeKey(k)));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.instances.keys()].map((k) => this.closeKey(k)));
  }

  private async closeKey(key: string): Promise<void> {
    const p = this.instances.get(key);
    this.instances.delete(key);
    if (p) await p.then((i) => i.close()).catch(() => undefined);
  }
}

function poolKey(scope: string, kind: string, type: string): string {
  return `${scope}\u0000${kind}\u0000${type}`;
}

export interface PreparedComponent<K extends PluginKind> {
  plugin: PluginOf<K>;
  /** What Prepare/Configure answered: the config the run is given. Absent when diagnostics has errors. */
  config?: JsonObject;
  /** Decode and Prepare/Configure diagnostics (warnings and errors). */
  diagnostics: Diagnostic[];
  /** The build values the run is given: user variables only those the component's config names (variablesGivenTo). */
  build: BuildContextValues;
}

interface Remembered {
  /** The configs Prepare was given, as JSON: the same configs give the same answer. */
  input: string;
  result: PrepareResult;
}

/** A component's bodies in merge order: its config, then the override chosen for this build. */
export function componentBodies(spec: ProvisionerSpec | PostProcessorSpec): ConfigBody[] {
  return "override" in spec && spec.override ? [spec.config, spec.override] : [spec.config];
}

export class ComponentPipeline {
  /** Successful prepares by component and build name. */
  private readonly prepared = new WeakMap<ProvisionerSpec | PostProcessorSpec, Map<string, Remembered>>();
  readonly pool: PluginPool;

  constructor(catalog: PluginCatalog) {
    this.pool = new PluginPool(catalog);
  }

  /**
   * Decodes the component's config (and override) for this build and prepares it in an instance of
   * `scope`. Diagnostics carry the decode and Prepare problems; a failed plugin call throws (and
   * the instance is discarded).
   */
  async prepare<K extends PluginKind>(kind: K, spec: SpecOf<K>, build: BuildContextValues, scope: string): Promise<PreparedComponent<K>> {
    const plugin = await this.pool.get(scope, kind, spec.type);
    const schema = plugin.description.schema;
    const diagnostics: Diagnostic[] = [];
    const configs: JsonObject[] = [];
    componentBodies(spec).forEach((body, i) => {
      const decoded = body.decode(build, i === 0 ? schema : overrideSchema(schema));
      diagnostics.push(...decoded.diagnostics);
      configs.push(decoded.value);
    });
    if (hasErrors(diagnostics)) return { plugin, diagnostics, build };

    const input = JSON.stringify(configs);
    const given = variablesGivenTo(build, input);
    const known = this.prepared.get(spec)?.get(build.buildName);
    let result: PrepareResult;
    if (known && known.input === input) {
      result = known.result;
    } else {
      try {
        result = "prepare" in plugin ? await plugin.prepare(configs) : await plugin.configure(configs);
      } catch (err) {
        await this.pool.discard(scope, kind, spec.type);
        throw err;
      }
      if (!hasErrors(result.diagnostics)) this.remember(spec, build.buildName, { input, result });
    }
    diagnostics.push(...result.diagnostics);
    return hasErrors(diagnostics) ? { plugin, diagnostics, build: given } : { plugin, config: result.config, diagnostics, build: given };
  }

  private remember(spec: ProvisionerSpec | PostProcessorSpec, buildName: string, r: Remembered): void {
    let byBuild = this.prepared.get(spec);
    if (!byBuild) this.prepared.set(spec, (byBuild = new Map()));
    byBuild.set(buildName, r);
  }

  closeAll(): Promise<void> {
    return this.pool.closeAll();
  }
}
