// Builds the suites' own plugins (tests/plugin/hostile/<name>/ and tests/plugin/fixtures/<name>/,
// entry assembly/plugin.ts) with the same compiler settings as first-party plugins. The module is
// cached under the test cache folder (tests/support/images.ts cacheDir()), named by a hash of its
// sources and the SDK's, so a fresh clone (CI) reuses it and different sources never share a file.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { compilePlugin } from "../../../plugins-wasm/build.ts";
import { cacheDir } from "../../support/images.ts";

const REPO = join(import.meta.dir, "..", "..", "..");
const SDK = join(REPO, "plugins-wasm", "sdk");

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (statSync(p).isFile()) out.push(p);
  }
  return out.sort();
}

function sourceKey(entryDir: string): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const f of [...files(entryDir), ...files(SDK)]) h.update(relative(REPO, f)).update("\0").update(readFileSync(f)).update("\0");
  return h.digest("hex").slice(0, 16);
}

export async function hostileWasm(name: string): Promise<string> {
  const hostile = join(import.meta.dir, name, "assembly", "plugin.ts");
  const entry = existsSync(hostile) ? hostile : join(import.meta.dir, "..", "fixtures", name, "assembly", "plugin.ts");
  const out = join(cacheDir(), "plugins", `${name}-${sourceKey(join(entry, ".."))}.wasm`);
  await compilePlugin(entry, out);
  return out;
}

export async function hostileBytes(name: string): Promise<Uint8Array> {
  return new Uint8Array(await Bun.file(await hostileWasm(name)).arrayBuffer());
}
