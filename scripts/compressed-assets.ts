// Makes the compressed assets of core/embedded/compressed-assets.ts: asc and the AssemblyScript
// compiler bundled into one ES module (Binaryen left out, imported by a placeholder specifier);
// Binaryen's own module as published, with its wasm (a 13 MB escaped string literal of 8.9 MB of
// bytes) taken out into a raw file, which compresses 12 % smaller; ssh2, @extism/extism,
// @msgpack/msgpack and cli-progress, each one ES module (ssh2's optional native addons left out); the
// first-party plugins as one file pack; and the plugin SDK's sources. Brotli at quality 11 is slow (a
// minute or more for Binaryen on a busy 2-core machine), so the results are kept in .cache/toolchain/,
// named by their content's hash: every build of the same inputs writes the same bytes.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { BunPlugin } from "bun";
import { dirname, join, relative, resolve } from "node:path";
import { brotliCompressSync, constants } from "node:zlib";
import { ASSET, COMPRESSED_EXT, type AssetName } from "../core/embedded/compressed-assets.ts";
import { packFiles } from "../core/embedded/file-pack.ts";
import { SHARED_MODULES_KEY, type SharedModules } from "../core/embedded/shared-modules.ts";
import { SSH_RUNTIME_SHARED } from "../core/communicator/ssh/runtime-shared.ts";
import { PACKER_RUNTIME_SHARED } from "../core/packer-plugin/runtime-shared.ts";
import { EMBEDDED_PLUGINS } from "../core/plugin/embedded/index.ts";
import { PLUGIN_DIST_DIR } from "../core/plugin/embedded/bytes.ts";
import { readSdkTree } from "../core/plugin/sdk-files.ts";
import { BINARYEN_SPECIFIER, BINARYEN_WASM_GLOBAL } from "../core/plugin/toolchain/embedded-compiler.ts";

const REPO = new URL("..", import.meta.url).pathname;

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** DIR/NAME.br holding brotli(bytes), compressed only when no earlier build made the same file. */
function compressed(bytes: Uint8Array, name: AssetName): string {
  const dir = join(REPO, ".cache", "toolchain", sha256(bytes).slice(0, 16));
  const file = join(dir, `${name}${COMPRESSED_EXT}`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length };
  writeFileSync(tmp, brotliCompressSync(bytes, { params }));
  renameSync(tmp, file);
  return file;
}

/** One ES module of `entry` and what it imports, minified. A plugin's refusal is reported in its words. */
async function bundle(entry: string, plugins: BunPlugin[] = []): Promise<string> {
  const built = await Bun.build({ throw: false, entrypoints: [entry], target: "bun", format: "esm", minify: true, plugins });
  if (!built.success || built.outputs.length !== 1) throw new Error(`bundling ${entry} failed: ${built.logs.map((l) => l.message).join("\n")}`);
  return await built.outputs[0]!.text();
}

/** Leaves imports matching `filter` as imports, under the specifier `rename` gives. */
function externals(filter: RegExp, rename: (path: string) => string = (p) => p): BunPlugin {
  return { name: "externals", setup: (b) => void b.onResolve({ filter }, (a) => ({ path: rename(a.path), external: true })) };
}

/** The repository paths of the modules in the binary's own bundle (cmd/main.ts and what it imports). */
export async function mainBundleInputs(): Promise<Set<string>> {
  const built = await Bun.build({ entrypoints: [join(REPO, "cmd/main.ts")], target: "bun", format: "esm", metafile: true });
  if (!built.success || !built.metafile) throw new Error(`bundling cmd/main.ts failed: ${built.logs.map(String).join("\n")}`);
  return new Set(Object.keys(built.metafile.inputs).map((p) => relative(REPO, resolve(REPO, p))));
}

/** A module that re-exports a shared module of the binary (core/embedded/shared-modules.ts). */
function sharedModuleShim(path: string): string {
  const names = new Bun.Transpiler({ loader: "ts" }).scan(readFileSync(join(REPO, path), "utf8")).exports;
  const m = `globalThis[Symbol.for(${JSON.stringify(SHARED_MODULES_KEY)})]?.[${JSON.stringify(path)}]`;
  const named = names.filter((n) => n !== "default");
  return [
    `const m = ${m};`,
    `if (!m) throw new Error(${JSON.stringify(`internal: shared module ${path} was not provided`)});`,
    named.length ? `export const { ${named.join(", ")} } = m;` : "",
    names.includes("default") ? "export default m.default;" : "",
  ].join("\n");
}

/**
 * One ES module of our own code under `folder` (from `entry`), minified. Imports of the binary's
 * other modules read them from the shared registry (`shared`, checked to list each one), so the
 * lazily loaded code and the binary use one instance of each; a file of `folder` that the binary's
 * bundle also contains would be a second instance, and fails the build.
 */
export async function bundleOwnCode(entry: string, folder: string, shared: SharedModules, inMain: Set<string>): Promise<string> {
  const lazyFiles = new Set<string>();
  const text = await bundle(join(REPO, entry), [
    {
      name: "shared-modules",
      setup(b) {
        b.onResolve({ filter: /^\.\.?\// }, (args) => {
          const path = relative(REPO, resolve(dirname(args.importer), args.path));
          if (path in shared) return { path, namespace: "imgb-shared" };
          if (!path.startsWith(`${folder}/`)) throw new Error(`${relative(REPO, args.importer)} imports ${path}: add it to the shared modules of ${entry}`);
          lazyFiles.add(path);
          return undefined;
        });
        b.onLoad({ filter: /.*/, namespace: "imgb-shared" }, (args) => ({ contents: sharedModuleShim(args.path), loader: "js" }));
      },
    },
  ]);
  const twice = [...lazyFiles].filter((f) => inMain.has(f));
  if (twice.length) throw new Error(`${entry}: ${twice.join(", ")} would be in the binary twice (also imported outside it): add to its shared modules`);
  return text;
}

/**
 * Binaryen's module without its wasm, and the wasm. The module decodes the wasm from a template
 * literal with a helper (`NAME(\`\0asm...\`)`, one char per byte); the literal is replaced by a read
 * of BINARYEN_WASM_GLOBAL, which the loader sets to the same one-char-per-byte string.
 */
function splitBinaryen(text: string): { glue: string; wasm: Uint8Array } {
  const start = text.indexOf("(`\\0asm");
  let end = -1;
  for (let i = start + 2; start >= 0 && i < text.length; i++) {
    if (text[i] === "\\") i++; // an escape: the next character is part of it
    else if (text[i] === "$" && text[i + 1] === "{") throw new Error("Binaryen's module: the wasm literal interpolates");
    else if (text[i] === "`") {
      end = i;
      break;
    }
  }
  if (start < 0 || end < 0 || text[end + 1] !== ")" || text.indexOf("(`\\0asm", end) >= 0) {
    throw new Error("Binaryen's module: expected exactly one wasm template literal");
  }
  const literal = text.slice(start + 1, end + 1);
  const value: unknown = (0, eval)(literal);
  if (typeof value !== "string") throw new Error("Binaryen's module: the wasm literal is not a string");
  const wasm = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 255) throw new Error("Binaryen's module: the wasm literal has a character above U+00FF");
    wasm[i] = c;
  }
  return { glue: `${text.slice(0, start + 1)}globalThis[Symbol.for(${JSON.stringify(BINARYEN_WASM_GLOBAL)})]${text.slice(end + 1)}`, wasm };
}

/** Paths of every compressed asset, to give `bun build --compile` as extra entry points. */
export async function compressedAssets(): Promise<string[]> {
  const require = createRequire(join(REPO, "package.json"));
  const ascPackage = require.resolve("assemblyscript/package.json");
  const ascText = await bundle(join(ascPackage, "..", "dist", "asc.js"), [externals(/^binaryen$/, () => BINARYEN_SPECIFIER)]);
  if (!ascText.includes(JSON.stringify(BINARYEN_SPECIFIER))) throw new Error(`asc's bundle does not import ${BINARYEN_SPECIFIER}`);
  const binaryen = splitBinaryen(readFileSync(join(createRequire(ascPackage).resolve("binaryen/package.json"), "..", "index.js"), "utf8"));
  // ssh2 loads its native addons and cpu-features in try/catch: left out, it uses its fallbacks.
  const ssh2Text = await bundle(join(REPO, "core/communicator/ssh/ssh2-entry.ts"), [externals(/\.node$|^cpu-features$/)]);
  const encode = (text: string) => new TextEncoder().encode(text);
  const inMain = await mainBundleInputs();
  const plugins = EMBEDDED_PLUGINS.map((p) => [`${p.folder}.wasm`, readFileSync(join(PLUGIN_DIST_DIR, `${p.folder}.wasm`))] as const);
  return [
    compressed(encode(ascText), ASSET.asc),
    compressed(encode(binaryen.glue), ASSET.binaryen),
    compressed(binaryen.wasm, ASSET.binaryenWasm),
    compressed(encode(ssh2Text), ASSET.ssh2),
    compressed(encode(await bundleOwnCode("core/communicator/ssh/runtime.ts", "core/communicator/ssh", SSH_RUNTIME_SHARED, inMain)), ASSET.sshRuntime),
    compressed(encode(await bundleOwnCode("core/packer-plugin/runtime.ts", "core/packer-plugin", PACKER_RUNTIME_SHARED, inMain)), ASSET.packerRuntime),
    compressed(encode(await bundle(require.resolve("@extism/extism"))), ASSET.extism),
    compressed(encode(await bundle(require.resolve("@msgpack/msgpack"))), ASSET.msgpack),
    compressed(encode(await bundle(require.resolve("cli-progress"))), ASSET.cliProgress),
    compressed(packFiles(plugins), ASSET.plugins),
    compressed(encode(JSON.stringify(readSdkTree())), ASSET.sdk),
  ];
}
