// In a compiled binary the embedded .wasm is read from the binary (the compressed plugin pack), Extism
// is imported from its compressed asset, and the sandbox child is the binary itself
// (`imgb __plugin-sandbox`): built here from a small entry with the same dispatch and the same assets.
import { expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildAll } from "../../plugins-wasm/build.ts";
import { compressedAssets } from "../../scripts/compressed-assets.ts";

test("shell-local runs from a compiled binary with the embedded plugin", async () => {
  await buildAll();
  const out = join(import.meta.dir, "..", ".tmp", `compiled-probe-${process.pid}`);
  mkdirSync(join(import.meta.dir, "..", ".tmp"), { recursive: true });
  const entry = join(import.meta.dir, "fixtures", "compiled-entry.ts");
  const assets = await compressedAssets();
  const build = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format", "esm", entry, ...assets, "--outfile", out], { stderr: "pipe", stdout: "pipe" });
  expect(build.exitCode).toBe(0);
  try {
    // Run from another folder: nothing may be read from the source tree.
    const run = Bun.spawnSync([out], { cwd: "/", stdout: "pipe", stderr: "pipe" });
    expect(run.stderr.toString()).toBe("");
    const result = JSON.parse(run.stdout.toString()) as { compiled: boolean; lines: string[]; firstInstanceMs: number };
    expect(result.compiled).toBe(true);
    expect(result.lines[0]).toMatch(/^say: Running local shell script: \/tmp\/packer-shell\d+$/);
    expect(result.lines[1]).toBe("message: compiled src");
  } finally {
    rmSync(out, { force: true });
  }
}, 60_000);
