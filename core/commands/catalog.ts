// The plugin catalog a command uses: the first-party plugins embedded in the binary, plus the
// plugins installed for the user and those locked for the template — only verified ones, with only
// the capabilities the user granted.
import { createPluginCatalog, type WasmPluginCatalog } from "../plugin/catalog.ts";
import { installedPlugins, lockedPlugins, type LockedPlugin } from "../registry/init.ts";

export async function openCatalog(templateDir: string, allowedPaths: readonly string[] = []): Promise<WasmPluginCatalog> {
  const catalog = createPluginCatalog({ allowedPaths });
  try {
    // Template-locked plugins are registered last, so a template's lock wins over a user-wide install.
    for (const plugin of [...(await installedPlugins()), ...(await lockedPlugins(templateDir))]) register(catalog, plugin);
  } catch (err) {
    await catalog.closeAll();
    throw err;
  }
  return catalog;
}

function register(catalog: WasmPluginCatalog, plugin: LockedPlugin): void {
  // Not loaded here: only the plugins the template uses are loaded and described, when first used.
  catalog.registerUnloaded(plugin.name, plugin.bytes, plugin.capabilities, `${plugin.name}@${plugin.version}`);
}
