// The first-party plugins' modules: in the compiled binary, one compressed pack of them all
// (core/embedded/compressed-assets.ts, made by scripts/compressed-assets.ts), decompressed once when
// the first is needed; from the sources, plugins-wasm/dist/FOLDER.wasm as plugins-wasm/build.ts wrote it.
import { existsSync, readFileSync } from "node:fs";
import { ASSET, assetBytes, embeddedAsset } from "../../embedded/compressed-assets.ts";
import { unpackFiles } from "../../embedded/file-pack.ts";

/** plugins-wasm/dist in a checkout. */
export const PLUGIN_DIST_DIR = new URL("../../../plugins-wasm/dist", import.meta.url).pathname;

let pack: Promise<Map<string, Uint8Array>> | undefined;

async function unpacked(asset: Blob): Promise<Map<string, Uint8Array>> {
  return unpackFiles(await assetBytes(asset));
}

/** The module of the plugin built from plugins-wasm/FOLDER, or undefined when it is not built. */
export async function embeddedPluginBytes(folder: string): Promise<Uint8Array | undefined> {
  const asset = embeddedAsset(ASSET.plugins);
  if (asset) {
    pack ??= unpacked(asset);
    return (await pack).get(`${folder}.wasm`);
  }
  const path = `${PLUGIN_DIST_DIR}/${folder}.wasm`;
  return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
}
