// The plugin catalog a command uses: the first-party plugins embedded in the binary, plus the
// plugins installed for the user and those locked for the template — only verified ones, with only
// the capabilities the user granted.
import { createPluginCatalog, type WasmPluginCatalog } from "../plugin/catalog.ts";
import { installedPlugins, lockedPlugins, type LockedPlugin } from "../registry/init.ts";
import { UserError } from "../errors/diagnostic.ts";
import { descriptionStore } from "../registry/cache.ts";
import { defaultCacheDir } from "../registry/config.ts";

export async function openCatalog(templateDir: string): Promise<WasmPluginCatalog> {
  const catalog = createPluginCatalog({ descriptions: descriptionStore(defaultCacheDir(process.env)) });
  try {
    // Template-locked plugins are registered last, so a template's lock wins over a user-wide install.
    for (const plugin of [...(await installedPlugins()), ...(await lockedPlugins(templateDir))]) await register(catalog, plugin);
  } catch (err) {
    await catalog.closeAll();
    throw err;
  }
  return catalog;
}

async function register(catalog: WasmPluginCatalog, plugin: LockedPlugin): Promise<void> {
  // The lock's limits (the signed ones, or what the user set for an unsigned install) bound the plugin at run time.
  const limits = { memoryBytes: plugin.limits.memoryMiB * 2 ** 20, cpuMsPerCall: plugin.limits.cpuMs };
  const description = await catalog.registerWasm(plugin.bytes, plugin.capabilities, "installed", `${plugin.name}@${plugin.version}`, limits);
  // A module must not claim another component's name: the type a template uses is the registry name.
  if (description.name !== plugin.name) {
    throw new UserError(
      `plugin ${plugin.name}@${plugin.version}: the module describes itself as "${description.name}", not "${plugin.name}"; refusing to load it`,
    );
  }
  // As Packer: a required plugin's component is also known by its local name in required_plugins.
  if (plugin.localName !== plugin.name) catalog.alias(description.kind, plugin.localName, plugin.name);
}
