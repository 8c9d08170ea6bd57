// What the compiled binary carries as brotli-compressed files instead of bundled code (made by
// scripts/compressed-assets.ts, given to `bun build --compile` as extra entry points, listed in
// Bun.embeddedFiles). Code bundled into the binary is also precompiled (--bytecode, about five times
// its size) and evaluated at every start; these are needed by some verbs only, so they cost their
// compressed size and nothing at start-up. They are decompressed into memory when first used; modules
// are imported through blob: URLs, so nothing is written to disk. Brotli (quality 11, 16 MiB window)
// is used because it packs these files 8-10 % smaller than zstd -19, and Bun decompresses it natively.
import { brotliDecompressSync } from "node:zlib";

/** Asset names; embedded as NAME-HASH.br (Bun's default naming of NAME.br). */
export const ASSET = {
  /** asc with the AssemblyScript compiler, one ES module importing Binaryen by BINARYEN_SPECIFIER. */
  asc: "imgb-asc.mjs",
  /** Binaryen's module as published, with its wasm taken out (BINARYEN_WASM_GLOBAL). */
  binaryen: "imgb-binaryen.mjs",
  /** Binaryen's wasm, raw: it compresses better than the escaped string literal it ships as. */
  binaryenWasm: "imgb-binaryen.wasm",
  /** ssh2 and its dependencies (core/communicator/ssh/ssh2-entry.ts), its native addons left out. */
  ssh2: "imgb-ssh2.mjs",
  /** The SSH communicator's run-time code (core/communicator/ssh/runtime.ts), sharing the binary's modules. */
  sshRuntime: "imgb-ssh-runtime.mjs",
  /** The Packer plugin protocol's run-time code (core/packer-plugin/runtime.ts), sharing the binary's modules. */
  packerRuntime: "imgb-packer-runtime.mjs",
  /** @extism/extism, for the plugin sandbox process. */
  extism: "imgb-extism.mjs",
  /** @msgpack/msgpack, for the Packer plugin bridge. */
  msgpack: "imgb-msgpack.mjs",
  /** cli-progress, for progress bars. */
  cliProgress: "imgb-cli-progress.mjs",
  /** The first-party plugins' modules, one file pack (file-pack.ts) of FOLDER.wasm. */
  plugins: "imgb-plugins.pack",
  /** The plugin SDK's sources, {relative path: text}, for `imgb plugin new`. */
  sdk: "imgb-sdk.json",
} as const;

export type AssetName = (typeof ASSET)[keyof typeof ASSET];

/** The extension of a compressed asset. */
export const COMPRESSED_EXT = ".br";

/** The embedded asset, or undefined when running from the sources (tests, `bun cmd/main.ts`). */
export function embeddedAsset(asset: AssetName): Blob | undefined {
  return Bun.embeddedFiles.find((f) => {
    const name = (f as Blob & { name?: string }).name ?? "";
    return name.startsWith(`${asset}-`) && name.endsWith(COMPRESSED_EXT);
  });
}

/** The asset's decompressed bytes. */
export async function assetBytes(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(brotliDecompressSync(new Uint8Array(await blob.arrayBuffer())));
}

/** The asset's decompressed text. */
export async function assetText(blob: Blob): Promise<string> {
  return new TextDecoder().decode(await assetBytes(blob));
}

/** A blob: URL for an ES module's text; revoke it once imported. */
export function moduleUrl(text: string): string {
  return URL.createObjectURL(new Blob([text], { type: "application/javascript" }));
}

/** Imports an ES module from its text. */
export async function importModuleText(text: string): Promise<unknown> {
  const url = moduleUrl(text);
  try {
    return await import(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

export interface LazyModule<T> {
  /** Loads the module (once; later calls share the first). */
  load(): Promise<T>;
  /** The module, for synchronous code on paths that awaited load() first. */
  loaded(): T;
}

/**
 * A module the compiled binary carries as `asset`, or, from the sources, `sourceUrl` (a package name
 * or a file URL, given as a value so the bundler does not pull it into the binary's code).
 */
export function lazyModule<T>(asset: AssetName, sourceUrl: string): LazyModule<T> {
  let loading: Promise<T> | undefined;
  let value: T | undefined;
  const load = () => {
    loading ??= (async () => {
      const blob = embeddedAsset(asset);
      const ns = (blob ? await importModuleText(await assetText(blob)) : await import(sourceUrl)) as Record<string, unknown>;
      // A CommonJS package bundled as an ES module has only a default export, its module.exports;
      // imported from node_modules it also has the named ones. Either way the caller gets the names.
      const keys = Object.keys(ns);
      value = (keys.length === 1 && keys[0] === "default" && typeof ns.default === "object" && ns.default !== null ? ns.default : ns) as T;
      return value;
    })();
    return loading;
  };
  const loaded = () => {
    if (value === undefined) throw new Error(`internal: ${asset} used before it was loaded`);
    return value;
  };
  return { load, loaded };
}
