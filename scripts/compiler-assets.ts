// Makes the two compressed assets core/plugin/toolchain/embedded-compiler.ts loads: asc and the
// AssemblyScript compiler bundled into one ES module (Binaryen left out, imported by a placeholder
// specifier), and Binaryen's own module as published (its wasm is a binary string literal: bundling
// would escape it to twice the size and compress worse). zstd level 19 is slow (a minute or more on
// a busy 2-core machine), so the results are kept in .cache/toolchain/, named by their content's
// hash: every build of the same compiler version writes the same bytes.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ASC_ASSET, BINARYEN_ASSET, BINARYEN_SPECIFIER } from "../core/plugin/toolchain/embedded-compiler.ts";

const REPO = new URL("..", import.meta.url).pathname;
const LEVEL = 19;

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** DIR/NAME holding zstd(bytes), compressed only when no earlier build made the same file. */
function compressed(bytes: Uint8Array, name: string): string {
  const dir = join(REPO, ".cache", "toolchain", sha256(bytes).slice(0, 16));
  const file = join(dir, `${name}.zst`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Bun.zstdCompressSync(bytes, { level: LEVEL }));
  renameSync(tmp, file);
  return file;
}

/** Paths of the asc and Binaryen assets, to give `bun build --compile` as extra entry points. */
export async function compilerAssets(): Promise<string[]> {
  const ascPackage = createRequire(join(REPO, "package.json")).resolve("assemblyscript/package.json");
  const ascEntry = join(ascPackage, "..", "dist", "asc.js");
  const binaryenEntry = join(createRequire(ascPackage).resolve("binaryen/package.json"), "..", "index.js");
  const built = await Bun.build({
    entrypoints: [ascEntry],
    target: "bun",
    format: "esm",
    minify: true,
    plugins: [
      {
        name: "binaryen-by-placeholder",
        setup(b) {
          b.onResolve({ filter: /^binaryen$/ }, () => ({ path: BINARYEN_SPECIFIER, external: true }));
        },
      },
    ],
  });
  if (!built.success || built.outputs.length !== 1) throw new Error(`bundling asc failed: ${built.logs.map(String).join("\n")}`);
  const ascText = await built.outputs[0]!.text();
  if (!ascText.includes(JSON.stringify(BINARYEN_SPECIFIER))) throw new Error(`asc's bundle does not import ${BINARYEN_SPECIFIER}`);
  return [compressed(new TextEncoder().encode(ascText), ASC_ASSET), compressed(readFileSync(binaryenEntry), BINARYEN_ASSET)];
}
