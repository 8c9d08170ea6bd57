// End to end: a third-party provisioner (AssemblyScript, built here) is published to a registry
// made with the registry tools, served over HTTP, installed with `initPlugins`, handed to the plugin
// catalog through `lockedPlugins`, and run in the sandbox with exactly the capabilities the lock grants.
import { afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { compilePlugin } from "../../plugins-wasm/build.ts";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { localCommunicator } from "../../core/communicator/local.ts";
import { initPlugins, lockedPlugins } from "../../core/registry/init.ts";
import { buildValues, RecordingUi } from "../plugin/support.ts";
import { makeRegistry, required, TestUi, type TestRegistry } from "./harness.ts";

// Cached by source hash in the suites' shared (git-ignored) build folder, like tests/plugin/hostile.
const WASM = join(import.meta.dir, "..", ".tmp", "plugins", "registry-acme-hello.wasm");
let wasm: Uint8Array;
let reg: TestRegistry;
let catalog: WasmPluginCatalog;

beforeAll(async () => {
  await compilePlugin(join(import.meta.dir, "fixtures", "hello", "assembly", "plugin.ts"), WASM);
  wasm = new Uint8Array(await readFile(WASM));
}, 120_000);
beforeEach(async () => {
  reg = await makeRegistry();
  catalog = createPluginCatalog({ embedded: false });
});
afterEach(async () => {
  await catalog.closeAll();
  await reg.close();
});

async function installAndRun(capabilities: string[]) {
  await reg.publish("acme/hello", "1.0.0", capabilities, { wasm });
  await initPlugins([required("acme/hello", "~> 1.0")], reg.templateDir, { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: reg.client });
  const locked = await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir });
  for (const p of locked) await catalog.registerWasm(p.bytes, p.capabilities);
  expect(catalog.has("provisioner", "acme/hello")).toBe(true);
  const prov = await catalog.provisioner("acme/hello");
  const marker = join(reg.base, "marker.txt");
  const prepared = await prov.prepare([{ who: "imgb", marker }]);
  expect(prepared.diagnostics).toEqual([]);
  const ui = new RecordingUi();
  const run = prov.provision({ ui, communicator: localCommunicator(), build: buildValues(), templateDir: reg.templateDir, signal: new AbortController().signal });
  return { run, ui, marker };
}

test("an installed registry plugin runs with the capabilities its lock grants", async () => {
  const { run, ui, marker } = await installAndRun(["local_exec"]);
  await run;
  expect(ui.lines).toContain("say: hello, imgb");
  expect(await readFile(marker, "utf8")).toBe("registry plugin ran for imgb");
}, 30_000);

test("a capability the lock does not grant is refused at run time", async () => {
  // The registry entry (and so the lock) grants nothing, though the module declares local_exec.
  const { run, marker } = await installAndRun([]);
  const err = await run.then(() => undefined, (e: unknown) => e as Error);
  expect(err?.message).toMatch(/acme\/hello.*capability local_exec refused/);
  expect(await Bun.file(marker).exists()).toBe(false);
}, 30_000);
