// Builds the suite's own plugins (tests/plugin/hostile/<name>/assembly/plugin.ts) with the same
// compiler settings as first-party plugins, cached by source hash under tests/.tmp/plugins/.
import { join } from "node:path";
import { compilePlugin } from "../../../plugins-wasm/build.ts";

const OUT = join(import.meta.dir, "..", "..", ".tmp", "plugins");

export async function hostileWasm(name: string): Promise<string> {
  const out = join(OUT, `${name}.wasm`);
  await compilePlugin(join(import.meta.dir, name, "assembly", "plugin.ts"), out);
  return out;
}

export async function hostileBytes(name: string): Promise<Uint8Array> {
  return new Uint8Array(await Bun.file(await hostileWasm(name)).arrayBuffer());
}
