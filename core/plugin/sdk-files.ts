// The plugin SDK's sources, as `imgb plugin new` writes them into a new project: in the compiled
// binary, one compressed asset (core/embedded/compressed-assets.ts) made from plugins-wasm/sdk at build
// time; from the sources, that folder itself. Either way the SDK is the one this imgb was built with.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import * as v from "valibot";
import { ASSET, assetText, embeddedAsset } from "../embedded/compressed-assets.ts";

/** plugins-wasm/sdk in a checkout. */
export const SDK_SOURCE_DIR = new URL("../../plugins-wasm/sdk", import.meta.url).pathname;

/** Every file under `root`, {path relative to root: text}, in a stable order. */
export function readSdkTree(root: string = SDK_SOURCE_DIR): Record<string, string> {
  const files: Record<string, string> = {};
  const entries = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const path of entries) files[relative(root, path)] = readFileSync(path, "utf8");
  return files;
}

const SdkTree = v.record(v.string(), v.string());

export async function sdkFiles(): Promise<Record<string, string>> {
  const asset = embeddedAsset(ASSET.sdk);
  return asset ? v.parse(SdkTree, JSON.parse(await assetText(asset))) : readSdkTree();
}
