// The AssemblyScript compiler as the compiled binary carries it: compressed ES modules (asc with the
// AssemblyScript compiler, and Binaryen) and Binaryen's wasm (core/embedded/compressed-assets.ts).
// Bundled as code they cost ~38 MB of the binary (Binaryen's wasm is a 13 MB string literal, and
// --bytecode precompiles all of it); compressed they cost ~1.6 MB and nothing at start-up. Only the
// verbs that compile load them.
import { ASSET, assetBytes, assetText, embeddedAsset, importModuleText, moduleUrl } from "../../embedded/compressed-assets.ts";

/** The specifier asc's bundle imports Binaryen by; replaced by Binaryen's blob: URL when loading. */
export const BINARYEN_SPECIFIER = "imgb-embedded:binaryen";
/** Symbol.for key of the global that hands Binaryen's module its wasm (one char per byte) while it loads. */
export const BINARYEN_WASM_GLOBAL = "imgb.binaryen.wasm";

/** asc's module when the compiler is embedded (the compiled binary), else undefined. */
export async function importEmbeddedAsc(): Promise<unknown> {
  const asc = embeddedAsset(ASSET.asc);
  const binaryen = embeddedAsset(ASSET.binaryen);
  const wasm = embeddedAsset(ASSET.binaryenWasm);
  if (!asc || !binaryen || !wasm) return undefined;
  const binaryenUrl = moduleUrl(await assetText(binaryen));
  const key = Symbol.for(BINARYEN_WASM_GLOBAL);
  const global = globalThis as Record<symbol, unknown>;
  // Binaryen instantiates its wasm while its module is evaluated (top-level await), so the global is
  // needed only during this import.
  global[key] = Buffer.from(await assetBytes(wasm)).toString("latin1");
  try {
    return await importModuleText((await assetText(asc)).replaceAll(JSON.stringify(BINARYEN_SPECIFIER), JSON.stringify(binaryenUrl)));
  } finally {
    delete global[key];
    URL.revokeObjectURL(binaryenUrl);
  }
}
