// A lock's per-plugin limits bound the plugin's sandbox at run time (core/commands/catalog.ts passes
// them to registerUnloaded): a plugin locked with 16 MiB and 500 ms is stopped there, though the
// catalog's own limits are the defaults (64 MiB, 10 s).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { noneCommunicator } from "../../core/communicator/types.ts";
import { hostileBytes } from "../plugin/hostile/build.ts";
import { RecordingUi, buildValues, expectGone } from "../plugin/support.ts";

let catalog: WasmPluginCatalog;
let dir: string;

beforeAll(async () => {
  const probe = await hostileBytes("probe");
  catalog = createPluginCatalog({ embedded: false });
  catalog.registerUnloaded("probe", probe, ["temp_file"], "acme/probe@1.0.0", { aliases: ["prober"], limits: { memoryBytes: 16 * 2 ** 20, cpuMsPerCall: 500 } });
  dir = mkdtempSync(join(tmpdir(), "imgb-limits-"));
}, 120_000);
afterAll(async () => {
  await catalog.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

async function run(type: string, action: string): Promise<{ error: string | null; ms: number }> {
  const p = await catalog.provisioner(type);
  expect((await p.prepare([{ action }])).diagnostics).toEqual([]);
  const started = performance.now();
  let error: string | null = null;
  try {
    await p.provision({ ui: new RecordingUi(), communicator: noneCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal });
  } catch (e) {
    error = (e as Error).message;
  }
  const ms = performance.now() - started;
  const pids = (p as unknown as { pids: number[] }).pids ?? [];
  await p.close();
  await expectGone(pids);
  return { error, ms };
}

describe("the lock's limits at run time", () => {
  test("CPU: stopped at the locked 500 ms, not the default 10 s", async () => {
    const r = await run("probe", "loop");
    expect(r.error).toBe("plugin probe: exceeded its CPU time limit of 500 ms");
    expect(r.ms).toBeLessThan(5000);
  });

  test("memory: stopped at the locked 16 MiB, not the default 64 MiB; the local name reaches the same plugin", async () => {
    const r = await run("prober", "membomb");
    expect(r.error).toBe("plugin probe: out of memory (limit 16 MiB)");
  });
});
