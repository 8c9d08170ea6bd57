import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { initPlugins, lockedPlugins } from "../../core/registry/init.ts";
import { readLock } from "../../core/registry/lock.ts";
import { sha256Hex } from "../../core/registry/hashing.ts";
import { makeRegistry, required, TestUi, type TestRegistry } from "./harness.ts";

let reg: TestRegistry;
beforeEach(async () => {
  reg = await makeRegistry();
});
afterEach(async () => {
  await reg.close();
});

describe("imgb init against a real registry over HTTP", () => {
  test("resolves the highest matching version, caches it by sha256 and writes the lock", async () => {
    await reg.publish("acme/hello", "1.0.0", ["communicator"]);
    const wasm11 = await reg.publish("acme/hello", "1.1.0", ["communicator"]);
    await reg.publish("acme/hello", "2.0.0", ["communicator"]);
    await reg.publish("acme/hello", "1.2.0-beta.1", ["communicator"]);
    const ui = new TestUi();
    const res = await initPlugins([required("acme/hello", "~> 1.0")], reg.templateDir, { upgrade: false, acceptCapabilities: true, ui, registry: reg.client });
    expect(res).toEqual([{ name: "acme/hello", localName: "hello", version: "1.1.0", action: "installed", capabilities: ["communicator"], signed: true, provider: "registry" }]);
    expect(ui.text).toContain("communicator: run commands and copy files on the machine being built");
    expect(ui.text).toMatch(/acme\/hello 1\.1\.0 is signed by publisher key [0-9a-f]{16}…/);
    expect(ui.text).toContain("vetted by reviewer@example.org on 2026-11-01T00:00:00Z: https://example.org/acme/hello at 0123456789abcdef0123456789abcdef01234567; no automated checks recorded");
    const lock = await readLock(reg.templateDir);
    expect(lock?.plugins["acme/hello"]?.sha256).toBe(sha256Hex(wasm11));
    const locked = await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir });
    expect(locked).toHaveLength(1);
    expect(locked[0]?.wasmPath).toEndWith(`${sha256Hex(wasm11)}.wasm`);
    expect(new Uint8Array(await readFile(locked[0]?.wasmPath ?? ""))).toEqual(new Uint8Array(wasm11));
    expect(locked[0]?.capabilities).toEqual(["communicator"]);
  });

  test("pre-releases only by exact match", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await reg.publish("acme/hello", "1.1.0-rc.1", []);
    const opts = { upgrade: false, acceptCapabilities: false, ui: new TestUi(), registry: reg.client };
    expect((await initPlugins([required("acme/hello", ">= 1.0")], reg.templateDir, opts))[0]?.version).toBe("1.0.0");
    expect((await initPlugins([required("acme/hello", "= 1.1.0-rc.1")], reg.templateDir, opts))[0]?.version).toBe("1.1.0-rc.1");
  });
});
