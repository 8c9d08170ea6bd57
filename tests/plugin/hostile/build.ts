// Builds the suites' own plugins (tests/plugin/hostile/<name>/ and tests/plugin/fixtures/<name>/,
// entry assembly/plugin.ts) with the same compiler settings as first-party plugins, cached by source
// hash under tests/.tmp/plugins/.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { compilePlugin } from "../../../plugins-wasm/build.ts";

const OUT = join(import.meta.dir, "..", "..", ".tmp", "plugins");

export async function hostileWasm(name: string): Promise<string> {
  const out = join(OUT, `${name}.wasm`);
  const hostile = join(import.meta.dir, name, "assembly", "plugin.ts");
  const entry = existsSync(hostile) ? hostile : join(import.meta.dir, "..", "fixtures", name, "assembly", "plugin.ts");
  await compilePlugin(entry, out);
  return out;
}

export async function hostileBytes(name: string): Promise<Uint8Array> {
  return new Uint8Array(await Bun.file(await hostileWasm(name)).arrayBuffer());
}
