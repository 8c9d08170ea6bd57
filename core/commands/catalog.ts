// The plugin catalog a command uses: the first-party plugins embedded in the binary, plus the
// plugins installed for the user and those locked for the template — only verified ones, with only
// the capabilities the user granted.
import { createPluginCatalog, type WasmPluginCatalog } from "../plugin/catalog.ts";
import { installedPlugins, lockedPlugins, type LockedPlugin } from "../registry/init.ts";
import { UserError } from "../errors/diagnostic.ts";

export async function openCatalog(templateDir: string, allowedPaths: readonly string[] = []): Promise<WasmPluginCatalog> {
  const catalog = createPluginCatalog({ allowedPaths });
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
  const description = await catalog.registerWasm(plugin.bytes, plugin.capabilities, "installed", `${plugin.name}@${plugin.version}`);
  // A module must not claim another component's name: the type a template uses is the registry name.
  if (description.name !== plugin.name) {
    throw new UserError(
      `plugin ${plugin.name}@${plugin.version}: the module describes itself as "${description.name}", not "${plugin.name}"; refusing to load it`,
    );
  }
}
