// `imgb init` asks an ordered list of plugin resolvers about each required plugin; the first that
// answers provides it:
//   1. builtin   — plugins whose components are part of imgb (packer-plugins.ts BUILTIN_PLUGINS):
//                  satisfied with no download;
//   2. registry  — the configured imgb registries (sources.ts): signed WASM plugins, verified, cached
//                  and locked;
//   3. (extension point) further resolvers, e.g. one for Packer's native plugins (builders and data
//      sources from GitHub-release layouts in Packer's plugin folder), are appended by whoever
//      implements them: `defaultResolvers(opts, [myResolver])`.
// A resolver returns undefined when the plugin is not its business, throws a RegistryError when it is
// but cannot be satisfied (a constraint no version meets, capabilities refused, a tampered download).
//
// To add a resolver: implement PluginResolver (name, offers, resolve) and pass it in `extra`. If it
// writes something that `imgb build` needs later, record it itself (its own state or lock section);
// the `.imgb.lock.json` written by init holds registry plugins only.
import type { Ui } from "../ui/types.ts";
import type { Constraint } from "./constraints.ts";
import type { RegistryConfig, RegistryOptions } from "./config.ts";
import { RegistryError } from "./errors.ts";
import type { LockEntry } from "./lock.ts";
import { builtinPlugin, describeComponents, type BuiltinPlugin, type PluginSource } from "./packer-plugins.ts";
import { Resolver, type ResolveAction } from "./resolve.ts";
import { configuredRegistries, openConfigured, type ConfiguredRegistry } from "./sources.ts";

export interface PluginRequest {
  /** The name in required_plugins. */
  localName: string;
  source: PluginSource;
  constraint: Constraint;
  /** What the template's lock recorded for this plugin (registry plugins). */
  locked?: LockEntry;
  /** The lock's key for it, when that differs from the source's mapped name (a registry alias). */
  lockedName?: string;
}

export type Resolution =
  | { kind: "builtin"; plugin: BuiltinPlugin; summary: string }
  | { kind: "locked"; name: string; entry: LockEntry; action: ResolveAction; registry: string; summary: string }
  | { kind: "other"; summary: string };

export interface PluginResolver {
  /** Shown in messages, e.g. "built into imgb". */
  readonly name: string;
  /** What it can provide, for the error when nothing provides a plugin. */
  readonly offers: string;
  resolve(req: PluginRequest): Promise<Resolution | undefined>;
}

export interface ResolverContext {
  upgrade: boolean;
  acceptDowngrade?: boolean;
  acceptCapabilities: boolean;
  ui: Ui;
  /** A single registry given in code (tests, `plugins mirror`) instead of the configured ones. */
  registry?: RegistryOptions;
  templateDir?: string;
}

export const builtinResolver: PluginResolver = {
  name: "built into imgb",
  offers: "the docker, qemu, ansible and vagrant plugins' components are built into imgb",
  async resolve(req) {
    const plugin = builtinPlugin(req.source);
    if (!plugin) return undefined;
    return { kind: "builtin", plugin, summary: `built into imgb (${describeComponents(plugin)}); nothing to download` };
  },
};

/** Configured registries: a plugin name resolves to exactly one of them. */
export class RegistryResolver implements PluginResolver {
  readonly name = "configured registries";
  private list: Promise<Array<{ c: ConfiguredRegistry | undefined; resolver: Resolver }>> | undefined;

  constructor(private readonly ctx: ResolverContext) {}

  get offers(): string {
    return 'signed WASM plugins from the registries you configured ("imgb registry list"; add one with "imgb registry add NAME URL --root FILE")';
  }

  private registries() {
    this.list ??= (async () => {
      const base = { upgrade: this.ctx.upgrade, acceptDowngrade: this.ctx.acceptDowngrade === true, acceptCapabilities: this.ctx.acceptCapabilities, ui: this.ctx.ui, ...(this.ctx.registry ? { registry: this.ctx.registry } : {}) };
      if (this.ctx.registry?.url !== undefined) return [{ c: undefined, resolver: new Resolver(base) }];
      const env = this.ctx.registry?.env ?? process.env;
      const configured = await configuredRegistries({ env, ...(this.ctx.templateDir !== undefined ? { templateDir: this.ctx.templateDir } : {}) });
      return configured.map((c) => ({
        c,
        resolver: new Resolver(base, (cacheDir): Promise<RegistryConfig> => openConfigured(c, { ...this.ctx.registry, cacheDir })),
      }));
    })();
    return this.list;
  }

  async resolve(req: PluginRequest): Promise<Resolution | undefined> {
    let name = req.lockedName ?? req.source.registryName;
    if (name === undefined) return undefined;
    const all = await this.registries();
    if (all.length === 0) return undefined;
    const ns = name.slice(0, name.indexOf("/"));
    let chosen: { c: ConfiguredRegistry | undefined; resolver: Resolver } | undefined;
    const claimed = all.filter((r) => r.c?.namespaces?.includes(ns));
    if (claimed.length > 1) {
      throw new RegistryError("usage", `namespace "${ns}" is claimed by registries ${claimed.map((r) => r.c?.name).join(" and ")}; keep --namespace ${ns} on one of them ("imgb registry add")`, { plugin: name });
    }
    if (claimed.length === 1) chosen = claimed[0];
    else {
      const open = all.filter((r) => r.c?.namespaces === undefined || r.c.namespaces.length === 0);
      // A locked plugin stays with the registry that provided it, when that one is still configured.
      const lockedFrom = req.locked?.registry !== undefined ? open.find((r) => r.c === undefined || r.c.url === req.locked?.registry) : undefined;
      if (lockedFrom && !this.ctx.upgrade) chosen = lockedFrom;
      // An unsigned local install is in no registry; any resolver keeps it from the cache.
      else if (req.locked && !req.locked.signed) chosen = all[0];
      else {
        const offering: typeof open = [];
        const aliased = new Map<(typeof open)[number], string>();
        for (const r of open) {
          if (await r.resolver.offers(name)) offering.push(r);
          else {
            // The registry's signed index may serve a Packer source address under another name.
            const target = await r.resolver.alias(req.source.address);
            if (target !== undefined) {
              offering.push(r);
              aliased.set(r, target);
            }
          }
        }
        if (offering.length > 1) {
          const names = offering.map((r) => r.c?.name ?? "?");
          throw new RegistryError(
            "usage",
            `offered by several registries (${names.join(", ")}); say which one serves namespace "${ns}": imgb registry add ${names[0]} <url> --root-sha256 <pin> --namespace ${ns}`,
            { plugin: name },
          );
        }
        chosen = offering[0];
        if (chosen && aliased.has(chosen)) name = aliased.get(chosen) ?? name;
      }
    }
    if (!chosen) return undefined;
    const outcome = await chosen.resolver.resolve(name, req.localName, req.constraint, req.locked);
    const registry = outcome.entry.registry ?? "(local)";
    const from = chosen.c ? `registry ${chosen.c.name}` : registry;
    return { kind: "locked", name, entry: outcome.entry, action: outcome.action, registry, summary: `${outcome.entry.version} ${outcome.action} from ${from}` };
  }
}

/** The default chain: built in, then configured registries, then any `extra` resolvers. */
export function defaultResolvers(ctx: ResolverContext, extra: PluginResolver[] = []): PluginResolver[] {
  return [builtinResolver, new RegistryResolver(ctx), ...extra];
}
