// The Packer plugin runtime for the rest of imgb: loaded on the first plugin-served builder or data
// source. From the sources it is a plain import; the compiled binary carries it as a compressed asset.
import { ASSET, lazyModule } from "../embedded/compressed-assets.ts";
import { provideSharedModules } from "../embedded/shared-modules.ts";
import type { ExternalDataSources } from "../template/hcl2/locals-and-data.ts";
import { findComponent } from "./discover.ts";
import { PACKER_RUNTIME_SHARED } from "./runtime-shared.ts";

type Runtime = typeof import("./runtime.ts");

const runtime = lazyModule<Runtime>(ASSET.packerRuntime, `${import.meta.dir}/runtime.ts`);

export async function loadPackerRuntime(): Promise<Runtime> {
  provideSharedModules(PACKER_RUNTIME_SHARED);
  return await runtime.load();
}

/** The loader's hook: data source types served by installed Packer plugins. */
export function pluginDataSources(execute: boolean): ExternalDataSources {
  const callTimeoutMs = Number(process.env.IMGB_PLUGIN_PREPARE_TIMEOUT_MS) || undefined;
  const startTimeoutMs = Number(process.env.IMGB_PLUGIN_START_TIMEOUT_MS) || undefined;
  const interrupted: { by?: string } = {};
  return async (type) => {
    const binary = await findComponent("datasource", type);
    if (!binary) return undefined;
    return (await loadPackerRuntime()).startPluginDatasource(binary, type, { execute, callTimeoutMs, startTimeoutMs, interrupted });
  };
}
