// The plugin catalog a command uses: the first-party plugins embedded in the binary, plus the
// plugins installed for the user and those locked for the template — only verified ones, with only
// the capabilities the user granted.
import { createPluginCatalog, type WasmPluginCatalog } from "../plugin/catalog.ts";
import { installedPlugins, lockedPlugins, type LockedPlugin } from "../registry/init.ts";
import { descriptionStore } from "../registry/cache.ts";
import { defaultCacheDir } from "../registry/config.ts";
import { prepareCallCount } from "../plugin/instances.ts";

export async function openCatalog(templateDir: string, allowedPaths: readonly string[] = []): Promise<WasmPluginCatalog> {
  // describe answers are kept on disk by sha256: a plugin used before is not described in a sandbox again.
  const catalog = createPluginCatalog({ allowedPaths, descriptions: descriptionStore(defaultCacheDir(process.env)) });
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
  // As Packer, a required plugin's component is also known by its local name in required_plugins;
  // the lock's limits (the signed ones, or what the user set for an unsigned install) bound its sandbox.
  catalog.registerUnloaded(plugin.name, plugin.bytes, plugin.capabilities, `${plugin.name}@${plugin.version}`, {
    aliases: [plugin.localName],
    limits: { memoryBytes: plugin.limits.memoryMiB * 2 ** 20, cpuMsPerCall: plugin.limits.cpuMs },
  });
}

/** IMGB_DEBUG_PREPARE_COUNT=1: how many Prepare/Configure calls reached a plugin (benchmarks count it). */
export function reportPrepareCount(): void {
  if (process.env.IMGB_DEBUG_PREPARE_COUNT) process.stderr.write(`imgb: ${prepareCallCount()} plugin prepare/configure calls\n`);
}
