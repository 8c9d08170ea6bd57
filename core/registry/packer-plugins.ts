// Packer plugin source addresses and what imgb knows about them, in one place:
//   - parsing `HOST/NAMESPACE/TYPE` (Packer's required_plugins `source`) and the rule that maps it to an
//     imgb registry name: `namespace/type`, lowercased, with a leading "packer-plugin-" dropped from TYPE
//     (so github.com/acme/motd and github.com/acme/packer-plugin-motd both name `acme/motd`);
//   - the plugins whose components imgb has built in (satisfied by `imgb init` without a download);
//   - which plugin provides a component type imgb does not know (for "unknown builder" errors and for
//     `hcl2_upgrade`, which writes required_plugins entries).
import { isValidPluginName } from "./names.ts";

export interface PluginSource {
  /** As written, e.g. "github.com/hashicorp/docker". */
  address: string;
  host: string;
  namespace: string;
  type: string;
  /** The imgb registry name the address maps to, e.g. "hashicorp/docker"; undefined when the parts
   *  fall outside the registry's name charset (such a plugin can only be built in or native). */
  registryName: string | undefined;
}

/**
 * Accepts Packer's `HOST/NAMESPACE/TYPE` and, for templates written for imgb before, a bare
 * `namespace/name` (host "imgb"). Returns undefined for anything else.
 */
export function parsePluginSource(address: string): PluginSource | undefined {
  const parts = address.split("/");
  let host: string;
  let namespace: string;
  let type: string;
  if (parts.length === 3 && parts[0]!.includes(".")) [host, namespace, type] = parts as [string, string, string];
  else if (parts.length === 2) {
    host = "imgb";
    [namespace, type] = parts as [string, string];
  } else return undefined;
  // Host: a DNS name (with a dot) and optional port; namespace and type: GitHub-style names. No
  // "." or ".." parts, no percent escapes, nothing that could walk a path.
  if (host !== "imgb" && !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+(?::\d+)?$/.test(host)) return undefined;
  const part = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
  if (!part.test(namespace) || !part.test(type) || namespace.includes("..") || type.includes("..")) return undefined;
  const mapped = `${namespace.toLowerCase()}/${type.toLowerCase().replace(/^packer-plugin-/, "")}`;
  return { address, host: host.toLowerCase(), namespace, type, registryName: isValidPluginName(mapped) ? mapped : undefined };
}

export interface BuiltinPlugin {
  /** Canonical source address (host lowercased). */
  source: string;
  builders: string[];
  provisioners: string[];
  postProcessors: string[];
  dataSources: string[];
}

/**
 * Plugins whose components are part of imgb. A required plugin listed here needs no download;
 * its version constraint is not checked (imgb's components follow Packer 1.9's behaviour, not a
 * plugin release).
 */
export const BUILTIN_PLUGINS: readonly BuiltinPlugin[] = [
  { source: "github.com/hashicorp/docker", builders: ["docker"], provisioners: [], postProcessors: ["docker-tag", "docker-save", "docker-import", "docker-push"], dataSources: [] },
  { source: "github.com/hashicorp/qemu", builders: ["qemu"], provisioners: [], postProcessors: [], dataSources: [] },
  { source: "github.com/hashicorp/ansible", builders: [], provisioners: ["ansible", "ansible-local"], postProcessors: [], dataSources: [] },
  { source: "github.com/hashicorp/vagrant", builders: [], provisioners: [], postProcessors: ["vagrant"], dataSources: [] },
  // A community plugin chef/bento's templates require; its one data source is small enough to build in.
  { source: "github.com/stromweld/host-info", builders: [], provisioners: [], postProcessors: [], dataSources: ["host-info"] },
];

export function builtinPlugin(source: PluginSource): BuiltinPlugin | undefined {
  const canonical = `${source.host}/${source.namespace.toLowerCase()}/${source.type.toLowerCase()}`;
  return BUILTIN_PLUGINS.find((p) => p.source === canonical);
}

/** The components of a built-in plugin, for messages: "docker builder; docker-tag, ... post-processors". */
export function describeComponents(p: BuiltinPlugin): string {
  const parts: string[] = [];
  const add = (names: string[], one: string, many: string) => {
    if (names.length > 0) parts.push(`${names.join(", ")} ${names.length === 1 ? one : many}`);
  };
  add(p.builders, "builder", "builders");
  add(p.provisioners, "provisioner", "provisioners");
  add(p.postProcessors, "post-processor", "post-processors");
  add(p.dataSources, "data source", "data sources");
  return parts.join("; ");
}

/** Plugins maintained by HashiCorp, by the prefix of their component types (Packer's own rule:
 *  `amazon-ebs` comes from the amazon plugin). */
const KNOWN_PLUGIN_PREFIXES: Record<string, string> = {
  alicloud: "github.com/hashicorp/alicloud",
  amazon: "github.com/hashicorp/amazon",
  ansible: "github.com/hashicorp/ansible",
  azure: "github.com/hashicorp/azure",
  chef: "github.com/hashicorp/chef",
  digitalocean: "github.com/digitalocean/digitalocean",
  docker: "github.com/hashicorp/docker",
  googlecompute: "github.com/hashicorp/googlecompute",
  hyperv: "github.com/hashicorp/hyperv",
  lxd: "github.com/hashicorp/lxd",
  openstack: "github.com/hashicorp/openstack",
  parallels: "github.com/hashicorp/parallels",
  proxmox: "github.com/hashicorp/proxmox",
  puppet: "github.com/hashicorp/puppet",
  qemu: "github.com/hashicorp/qemu",
  vagrant: "github.com/hashicorp/vagrant",
  virtualbox: "github.com/hashicorp/virtualbox",
  vmware: "github.com/hashicorp/vmware",
  vsphere: "github.com/hashicorp/vsphere",
};

/** The plugin that provides a component type, when it is one of the well-known ones. */
export function pluginProviding(componentType: string): string | undefined {
  const prefix = componentType.split("-")[0] ?? componentType;
  return KNOWN_PLUGIN_PREFIXES[prefix];
}

/**
 * The detail of an "unknown component" error, as Packer 1.9 gives it: which plugin would provide the
 * type and that `imgb init` installs it.
 */
export function unknownComponentDetail(kind: string, type: string): string {
  const plugin = pluginProviding(type);
  if (plugin === undefined) {
    return `The ${kind} ${type} is unknown to imgb and is likely part of a plugin that is not installed: add that plugin to the template's required_plugins and run "imgb init" to install it from a configured registry ("imgb registry list").`;
  }
  if (BUILTIN_PLUGINS.some((b) => b.source === plugin)) {
    return `The ${kind} ${type} is unknown to imgb; it belongs to the plugin ${plugin}, whose components imgb builds in, but not this one: no plugin to install provides it.`;
  }
  const local = plugin.slice(plugin.lastIndexOf("/") + 1);
  return `The ${kind} ${type} is unknown to imgb; it is part of the plugin ${plugin}, which is not installed. Add it to the template (packer { required_plugins { ${local} = { source = "${plugin}", version = ">= 1.0.0" } } }) and run "imgb init" to install it from a configured registry.`;
}
