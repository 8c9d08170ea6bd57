// The seven attacks an audit found getting through (issue "the registry a user can actually install
// from"), each against a real registry served on 127.0.0.1 and refused with a RegistryError code.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { cachedWasmPath } from "../../core/registry/cache.ts";
import { RegistryClient } from "../../core/registry/client.ts";
import { resolveRegistryConfig } from "../../core/registry/config.ts";
import { initPlugins, lockedPlugins } from "../../core/registry/init.ts";
import { generateKey, publicOf } from "../../core/registry/keys.ts";
import { LAYOUT } from "../../core/registry/layout.ts";
import { lockPath, readLock } from "../../core/registry/lock.ts";
import { installPlugin, verifyInstalled } from "../../core/registry/manage.ts";
import { rotateRoot, yankPlugin } from "../../core/registry/publish.ts";
import { updateIndex } from "../../core/registry/repository.ts";
import { sha256Hex } from "../../core/registry/hashing.ts";
import { makeRegistry, refusal, required, TestUi, tinyWasm, type TestRegistry } from "./harness.ts";

let reg: TestRegistry;
beforeEach(async () => {
  reg = await makeRegistry();
});
afterEach(async () => {
  await reg.close();
});

const init = (o: { upgrade?: boolean; ui?: TestUi; registry?: typeof reg.client; acceptDowngrade?: boolean } = {}) =>
  initPlugins([required("acme/hello", ">= 1.0")], reg.templateDir, {
    upgrade: o.upgrade ?? false,
    acceptCapabilities: true,
    ...(o.acceptDowngrade ? { acceptDowngrade: true } : {}),
    ui: o.ui ?? new TestUi(),
    registry: o.registry ?? reg.client,
  });

describe("audit: attacks that got through before", () => {
  test("rollback after a root rotation: memory is kept by the registry's first root, so trusting the newer root does not reset it", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const oldTs = await readFile(join(reg.dir, LAYOUT.timestamp));
    await reg.publish("acme/hello", "1.1.0", []);
    await init(); // 1.1.0 locked; the client has seen the newer timestamp and index
    expect((await readLock(reg.templateDir))?.plugins["acme/hello"]?.version).toBe("1.1.0");
    // A routine rotation: new root keys, same index and timestamp keys.
    const newRoot = generateKey();
    await rotateRoot(reg.dir, {
      oldRootKeys: [reg.root],
      newRootKeys: [newRoot],
      newRoles: { root: { keys: [publicOf(newRoot)] }, index: { keys: reg.signers.index.map(publicOf) }, timestamp: { keys: reg.signers.timestamp.map(publicOf) } },
    });
    await updateIndex(reg.dir, reg.signers, () => {});
    // The user now trusts the newest root.json; an attacker replays the old, validly signed pair.
    const newer = { ...reg.client, rootPath: join(reg.dir, LAYOUT.versionedRoot(2)) };
    // (It reaches the registry for the first time with that root: its memory must already hold what was seen.)
    await writeFile(join(reg.dir, LAYOUT.timestamp), oldTs);
    await refusal(new RegistryClient(await resolveRegistryConfig(newer)).refresh(), "rollback", /older than version \d+ already seen \(rollback attack\)/);
    await refusal(init({ upgrade: true, registry: newer }), "rollback", /rollback attack/);
    expect((await readLock(reg.templateDir))?.plugins["acme/hello"]?.version).toBe("1.1.0");
  });

  test("slow retrieval: a server trickling bytes fails at the total deadline derived from the cap and a minimum rate", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname.endsWith(".root.json")) return new Response("not found", { status: 404 });
        // One byte every 100 ms: never idle long enough for the idle timer.
        let n = 0;
        return new Response(
          new ReadableStream({
            async pull(c) {
              await Bun.sleep(100);
              if (n++ > 1000) c.close();
              else c.enqueue(new Uint8Array([0x20]));
            },
          }),
        );
      },
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const started = performance.now();
      // timestamp cap 64 KiB at >= 64 KiB/s + 500 ms: the deadline is 1.5 s.
      await refusal(init({ registry: { ...reg.client, url, timeoutMs: 5000, timing: { baseMs: 500, minBytesPerSecond: 64 * 1024 } } }), "unreachable", /not complete after 1500 ms .*slow retrieval/);
      const took = performance.now() - started;
      expect(took).toBeGreaterThan(1400);
      expect(took).toBeLessThan(4000);
    } finally {
      await server.stop(true);
    }
  });

  test("the lock grants no more than the signed statement: an added capability or raised limit is refused at build, init and verify", async () => {
    await reg.publish("acme/hello", "1.0.0", [], { limits: { memoryMiB: 16, cpuMs: 1000 } });
    await init();
    const path = lockPath(reg.templateDir);
    const original = await readFile(path, "utf8");
    const lock = JSON.parse(original);
    lock.plugins["acme/hello"].capabilities = ["local_exec"];
    await writeFile(path, JSON.stringify(lock));
    await refusal(lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir }), "capabilities", /the lock grants local_exec, which the signed statement does not declare/);
    await refusal(init(), "capabilities", /refusing an edited lock/);
    const verified = await verifyInstalled({ templateDir: reg.templateDir, registry: reg.client });
    expect(verified[0]).toMatchObject({ status: "altered" });
    expect(verified[0]?.detail).toContain("local_exec");
    lock.plugins["acme/hello"].capabilities = [];
    lock.plugins["acme/hello"].limits = { memoryMiB: 64, cpuMs: 1000 };
    await writeFile(path, JSON.stringify(lock));
    await refusal(lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir }), "capabilities", /limits \(64 MiB, 1000 ms\) exceed the signed ones \(16 MiB, 1000 ms\)/);
    await writeFile(path, original);
    expect((await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir })).map((p) => p.limits)).toEqual([{ memoryMiB: 16, cpuMs: 1000 }]);
    // A cache without the statement (made by an older imgb): the build says to run init, and init fetches it again.
    spawnSync("rm", ["-rf", join(reg.client.cacheDir ?? "", "plugins", "statements")]);
    await refusal(lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir }), "lock", /signed statement is not in the plugin cache; run "imgb init"/);
    expect((await init())[0]).toMatchObject({ action: "kept", version: "1.0.0" });
    expect(await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir })).toHaveLength(1);
  });

  test("concurrent installs into one list lose no entry (read-modify-write under an exclusive lock)", async () => {
    const names = ["acme/one", "acme/two", "acme/three", "acme/four"];
    for (const n of names) await reg.publish(n, "1.0.0", []);
    for (let round = 0; round < 3; round++) {
      const stateDir = join(reg.base, `state-${round}`);
      const registry = { ...reg.client, stateDir };
      await Promise.all(names.map((n) => installPlugin(n, { ui: new TestUi(), acceptCapabilities: true, allowUnsigned: false, registry })));
      const list = JSON.parse(await readFile(join(stateDir, "installed.json"), "utf8"));
      expect(Object.keys(list.plugins).sort()).toEqual([...names].sort());
      expect((await readdir(stateDir)).filter((f) => f.includes(".lock") || f.includes(".tmp-"))).toEqual([]);
    }
  });

  test("credentials in a registry URL reach neither the lock nor any message", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const withCreds = reg.url.replace("http://", "http://alice:hunter2@");
    const ui = new TestUi();
    await init({ ui, registry: { ...reg.client, url: withCreds } });
    const lockText = await readFile(lockPath(reg.templateDir), "utf8");
    expect(lockText).toContain(`"registry": "${reg.url}"`);
    expect(lockText).not.toContain("hunter2");
    expect(ui.text).not.toContain("hunter2");
    await reg.server.stop();
    const msg = await refusal(init({ upgrade: true, registry: { ...reg.client, url: withCreds } }), "unreachable", /cannot fetch/);
    expect(msg).not.toContain("hunter2");
    expect(msg).not.toContain("alice");
  });

  test("-upgrade after the locked version was yanked does not silently downgrade", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await reg.publish("acme/hello", "1.1.0", []);
    await init();
    await yankPlugin(reg.dir, "acme/hello", "1.1.0", reg.signers);
    const ui = new TestUi();
    await refusal(init({ upgrade: true, ui }), "not-found", /would downgrade 1\.1\.0 -> 1\.0\.0, and there is no terminal to confirm it; re-run with -accept-downgrade/);
    expect(ui.text).toContain("the locked version 1.1.0 was yanked by the registry; the newest allowed version, 1.0.0, is OLDER (a downgrade)");
    expect((await readLock(reg.templateDir))?.plugins["acme/hello"]?.version).toBe("1.1.0");
    await refusal(init({ upgrade: true, ui: new TestUi(["n"]) }), "not-found", /not confirmed/);
    await init({ upgrade: true, ui: new TestUi(["y"]) });
    expect((await readLock(reg.templateDir))?.plugins["acme/hello"]?.version).toBe("1.0.0");
  });

  test("cache entries that are not files (a FIFO, a directory) are refused at once, leaving no temp file", async () => {
    const wasm = await reg.publish("acme/hello", "1.0.0", []);
    const path = cachedWasmPath(reg.client.cacheDir ?? "", sha256Hex(wasm));
    await mkdir(join(path, ".."), { recursive: true });
    expect(spawnSync("mkfifo", [path]).status).toBe(0);
    const started = performance.now();
    await refusal(init(), "mismatch", /is not a regular file \(a FIFO\)/);
    expect(performance.now() - started).toBeLessThan(3000);
    spawnSync("rm", ["-f", path]);
    await mkdir(path);
    await refusal(init(), "mismatch", /is not a regular file \(a directory\)|is a directory, not a file/);
    expect((await readdir(join(path, ".."))).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  test("plugins verify --repair downloads a module whose cached copy was altered, and nothing for an edited lock", async () => {
    const wasm = await reg.publish("acme/hello", "1.0.0", []);
    await init();
    const path = cachedWasmPath(reg.client.cacheDir ?? "", sha256Hex(wasm));
    spawnSync("rm", ["-f", path]);
    await writeFile(path, tinyWasm("altered"));
    const target = { templateDir: reg.templateDir, registry: reg.client };
    expect((await verifyInstalled(target))[0]).toMatchObject({ status: "altered" });
    const repaired = await verifyInstalled({ ...target, repair: true });
    expect(repaired[0]).toMatchObject({ status: "repaired", detail: `downloaded again from ${reg.url}` });
    expect(sha256Hex(new Uint8Array(await readFile(path)))).toBe(sha256Hex(wasm));
    expect((await verifyInstalled(target))[0]).toMatchObject({ status: "ok" });
  });
});
