// The ABI's edges through the real sandbox: a million host calls in one export call (Extism blocks
// are reused), return codes, the clock, byte handles, and the load-time import checks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import type { JsonObject } from "../../core/values/json.ts";
import { hostileBytes } from "./hostile/build.ts";
import { RecordingUi, buildValues, expectGone, sandboxChildren } from "./support.ts";

let catalog: WasmPluginCatalog;
let dir: string;

beforeAll(async () => {
  const probe = await hostileBytes("abi");
  await hostileBytes("wrongtype");
  await hostileBytes("overreach");
  catalog = createPluginCatalog({ embedded: false, limits: { cpuMsPerCall: 60_000 } });
  await catalog.registerWasm(probe, ["artifact_read", "artifact_write"]);
  dir = mkdtempSync(join(tmpdir(), "imgb-abi-"));
}, 120_000);

afterAll(async () => {
  await catalog.closeAll();
  rmSync(dir, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

async function run(config: JsonObject, files: string[] = []): Promise<{ id: string | null; error: string | null; ms: number }> {
  const pp = await catalog.postProcessor("abi-probe");
  try {
    expect((await pp.configure([config])).diagnostics).toEqual([]);
    const input = { builderId: "test", id: "in", files, string: "", state: {}, destroy: async () => {} };
    const t0 = performance.now();
    try {
      const r = await pp.postProcess({ ui: new RecordingUi(), build: buildValues(), templateDir: dir, signal: new AbortController().signal, outputDir: dir }, input);
      return { id: r.artifact.id, error: null, ms: performance.now() - t0 };
    } catch (e) {
      return { id: null, error: (e as Error).message, ms: performance.now() - t0 };
    }
  } finally {
    await pp.close();
  }
}

describe("host calls", () => {
  test("100,000 host calls in one export call work (blocks are freed and reused; Extism alone stopped at 32,768)", async () => {
    const r = await run({ action: "now_many", count: 100_000 });
    expect(r.error).toBeNull();
    expect(r.id).toBe("calls 100000");
  }, 120_000);

  test("a non-zero return code without error_set fails the call", async () => {
    const r = await run({ action: "status" });
    expect(r.error).toBe("plugin abi-probe: post_process returned 3 without reporting an error (error_set)");
  });

  test("the SDK's tree-less reply reader (Clock) agrees with JSON.parse, or hands the text to the full parser", async () => {
    const cases: [string, string, number | "absent" | "unreadable" | "general" | "error reply"][] = [
      ['{"unix_ms":1764771234567,"monotonic_ms":1764771234567.125}', "monotonic_ms", 1764771234567.125],
      [' { "a" : [1, {"monotonic_ms": 5}, "]}"] , "monotonic_ms" : -0.5 } ', "monotonic_ms", -0.5],
      ['{"s":"x\\"monotonic_ms\\":1","monotonic_ms":2}', "monotonic_ms", 2],
      ['{"x":{"monotonic_ms":1}}', "monotonic_ms", "absent"],
      ['{"error":"refused"}', "monotonic_ms", "error reply"],
      ['{"monotonic_ms":1,"error":"refused"}', "monotonic_ms", "error reply"],
      ['{"monotonic_ms":1e3}', "monotonic_ms", "general"],
      ['{"monotonic_ms":12345678901234567}', "monotonic_ms", "general"],
      ['{"monotonic_ms":"12"}', "monotonic_ms", "general"],
      ['{"monotonic_ms":0.1}', "monotonic_ms", 0.1],
      ['{"mono\\u0074onic_ms":1}', "monotonic_ms", "unreadable"],
      ['{"monotonic_ms":1', "monotonic_ms", "unreadable"],
      ['{"monotonic_ms":1} x', "monotonic_ms", "unreadable"],
      ["[1]", "monotonic_ms", "unreadable"],
      ["{}", "monotonic_ms", "absent"],
    ];
    for (const [text, key, want] of cases) {
      const r = await run({ action: "json_field", path: text, out: key });
      expect(r.error).toBeNull();
      if (typeof want === "number") {
        expect(Number(r.id)).toBe(want);
        expect(Number(r.id)).toBe(JSON.parse(text)[key]);
      } else expect({ text, got: r.id }).toEqual({ text, got: want });
    }
  }, 60_000);

  test("sleep waits on the host", async () => {
    const r = await run({ action: "sleep", count: 300 });
    expect(r.error).toBeNull();
    expect(Number(r.id!.split(" ")[1])).toBeGreaterThanOrEqual(295);
  });
});

describe("byte handles", () => {
  test("artifact_open/create with pread/pwrite copy a file through plugin memory", async () => {
    const src = join(dir, "in.bin");
    const data = new Uint8Array(3 * 2 ** 20 + 123).map((_, i) => (i * 7) & 0xff);
    writeFileSync(src, data);
    const r = await run({ action: "copy", path: src, out: join(dir, "out.bin") }, [src]);
    expect(r.error).toBeNull();
    expect(r.id).toBe(`${data.length} ${data.reduce((a, b) => a + b, 0)}`);
    expect(new Uint8Array(readFileSync(join(dir, "out.bin")))).toEqual(data);
  });

  test("paths outside the grants, memory outside the module and unknown handles are refused", async () => {
    const outside = await run({ action: "copy", path: "/etc/passwd", out: join(dir, "x") }, [join(dir, "in.bin")]);
    expect(outside.error).toBe('plugin abi-probe: capability artifact_read refused for "/etc/passwd": outside the input artifact\'s files and the output directory');
    const src = join(dir, "in.bin");
    const mem = await run({ action: "pread_outside", path: src }, [src]);
    expect(mem.error).toMatch(/^plugin abi-probe: artifact_pread: bytes 4294963200\.\.4296011776 are outside the plugin's memory \(\d+ bytes\)$/);
    const bad = await run({ action: "bad_handle" });
    expect(bad.error).toBe("plugin abi-probe: artifact_pread: 42 is not an open handle (artifact_open / artifact_create)");
  });
});

describe("load-time import checks", () => {
  test("an import with the wrong wasm type is refused, naming it", async () => {
    const cat = createPluginCatalog({ embedded: false });
    await expect(cat.registerWasm(await hostileBytes("wrongtype"), [], "installed", "wrongtype.wasm")).rejects.toThrow(
      'plugin wrongtype.wasm: module imports "extism:host/user"."ui_say" as (i32) -> i32; imgb provides it as (i64) -> i64',
    );
    await cat.closeAll();
  });

  test("importing a host function whose capability describe does not declare is refused", async () => {
    const cat = createPluginCatalog({ embedded: false });
    await expect(cat.registerWasm(await hostileBytes("overreach"), ["local_exec", "temp_file"], "installed", "overreach.wasm")).rejects.toThrow(
      "plugin overreach: the module imports host function local_exec, which needs capability local_exec, but describe does not declare it",
    );
    expect(cat.sandboxPids()).toEqual([]);
    await cat.closeAll();
  });
});
