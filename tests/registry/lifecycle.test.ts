// Upgrades and capability approval, root rotation, and working offline.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RegistryClient } from "../../core/registry/client.ts";
import { resolveRegistryConfig } from "../../core/registry/config.ts";
import { initPlugins, installedPlugins, lockedPlugins } from "../../core/registry/init.ts";
import { installPlugin } from "../../core/registry/manage.ts";
import { generateKey, publicOf } from "../../core/registry/keys.ts";
import { LAYOUT } from "../../core/registry/layout.ts";
import { readLock, lockPath } from "../../core/registry/lock.ts";
import { rotateRoot, signPlugin, yankPlugin } from "../../core/registry/publish.ts";
import { readRegistryIndex, updateIndex, writeSignedIndex } from "../../core/registry/repository.ts";
import { makeRegistry, refusal, required, tinyWasm, TestUi, VETTING, type TestRegistry } from "./harness.ts";

let reg: TestRegistry;
beforeEach(async () => {
  reg = await makeRegistry();
});
afterEach(async () => {
  await reg.close();
});

const init = (constraint: string, extra: { upgrade?: boolean; accept?: boolean; ui?: TestUi } = {}) =>
  initPlugins([required("acme/hello", constraint)], reg.templateDir, {
    upgrade: extra.upgrade ?? false,
    acceptCapabilities: extra.accept ?? false,
    ui: extra.ui ?? new TestUi(),
    registry: reg.client,
  });

describe("capabilities", () => {
  test("a new plugin's capabilities: no terminal and no flag is refused; 'y' on the terminal grants", async () => {
    await reg.publish("acme/hello", "1.0.0", ["communicator", "temp_file"]);
    await refusal(init(">= 1"), "capabilities", /plugin acme\/hello 1\.0\.0/, /no terminal to ask on; re-run with -accept-capabilities/);
    expect(await readLock(reg.templateDir)).toBeUndefined();
    await refusal(init(">= 1", { ui: new TestUi(["n"]) }), "capabilities", /not granted/);
    const ui = new TestUi(["y"]);
    await init(">= 1", { ui });
    expect(ui.asked).toEqual(["Grant communicator, temp_file to acme/hello 1.0.0? [y/N]"]);
    expect((await readLock(reg.templateDir))?.plugins["acme/hello"]?.capabilities).toEqual(["communicator", "temp_file"]);
  });

  test("upgrade asking for more capabilities needs approval again and shows the difference", async () => {
    await reg.publish("acme/hello", "1.0.0", ["communicator"]);
    await init(">= 1", { accept: true });
    await reg.publish("acme/hello", "1.1.0", ["communicator", "local_exec"]);
    // Without -upgrade the lock holds: nothing to approve, still 1.0.0.
    expect((await init(">= 1"))[0]).toMatchObject({ version: "1.0.0", action: "kept" });
    // -upgrade without approval: refused, lock untouched.
    const before = await readFile(lockPath(reg.templateDir), "utf8");
    await refusal(init(">= 1", { upgrade: true }), "capabilities", /plugin acme\/hello 1\.1\.0/, /local_exec/);
    expect(await readFile(lockPath(reg.templateDir), "utf8")).toBe(before);
    expect((await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir }))[0]?.capabilities).toEqual(["communicator"]);
    // -upgrade with approval: the difference is shown, the lock grants the new set.
    const ui = new TestUi();
    expect((await init(">= 1", { upgrade: true, accept: true, ui }))[0]).toMatchObject({ version: "1.1.0", action: "upgraded" });
    expect(ui.text).toContain("acme/hello 1.0.0 -> 1.1.0 asks for more capabilities than you granted to 1.0.0:");
    expect(ui.text).toContain("+ local_exec: run commands on this computer");
    expect(ui.text).toContain("    communicator:");
    expect((await readLock(reg.templateDir))?.plugins["acme/hello"]).toMatchObject({ version: "1.1.0", capabilities: ["communicator", "local_exec"] });
  });

  test("an upgrade asking for the same or fewer capabilities needs no approval", async () => {
    await reg.publish("acme/hello", "1.0.0", ["communicator", "temp_file"]);
    await init(">= 1", { accept: true });
    await reg.publish("acme/hello", "1.1.0", ["communicator"]);
    const ui = new TestUi();
    expect((await init(">= 1", { upgrade: true, ui }))[0]).toMatchObject({ version: "1.1.0", capabilities: ["communicator"] });
    expect(ui.asked).toEqual([]);
  });

  test("yanked versions are skipped when resolving", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await reg.publish("acme/hello", "1.1.0", []);
    await yankPlugin(reg.dir, "acme/hello", "1.1.0", reg.signers);
    expect((await init(">= 1"))[0]?.version).toBe("1.0.0");
    await refusal(init(">= 1.1"), "not-found", /plugin acme\/hello/, /no version satisfies ">= 1\.1" \(available: 1\.0\.0\)/);
  });

  test("a published version whose module changed under the lock is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await init(">= 1");
    // Publisher and registry (both with valid keys) replace 1.0.0 with other bytes; the client's cache is empty.
    const other = tinyWasm("replacement");
    const signed = signPlugin({ wasm: other, name: "acme/hello", version: "1.0.0", capabilities: [] }, reg.publisher);
    await writeFile(join(reg.dir, LAYOUT.blob(signed.statement.wasm.sha256)), other);
    await updateIndex(reg.dir, reg.signers, (idx) => {
      idx.plugins["acme/hello"] = { versions: { "1.0.0": { ...signed.statement, publisher: signed.signature, vetting: VETTING, yanked: false } } };
    });
    await refusal(initPlugins([required("acme/hello", ">= 1")], reg.templateDir, { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: { ...reg.client, cacheDir: join(reg.base, "cache2") } }), "mismatch", /different module for locked version 1\.0\.0/);
  });
});

describe("unsigned local plugins", () => {
  test("installed into a template's lock with --allow-unsigned: kept by init, even with -upgrade, and handed to the build as unsigned", async () => {
    const file = join(reg.base, "local.wasm");
    await writeFile(file, tinyWasm("local tool"));
    const ui = new TestUi();
    await refusal(installPlugin(file, { ui, acceptCapabilities: true, allowUnsigned: false, name: "me/tool", templateDir: reg.templateDir, registry: reg.client }), "unsigned", /pass --allow-unsigned/);
    await installPlugin(file, { ui, acceptCapabilities: true, allowUnsigned: true, name: "me/tool", version: "0.1.0", capabilities: ["temp_file"], templateDir: reg.templateDir, registry: reg.client });
    expect(ui.text).toContain("me/tool 0.1.0 is UNSIGNED");
    const res = await initPlugins([required("me/tool", ">= 0.1")], reg.templateDir, { upgrade: true, acceptCapabilities: false, ui: new TestUi(), registry: reg.client });
    expect(res[0]).toMatchObject({ name: "me/tool", version: "0.1.0", action: "kept", signed: false, capabilities: ["temp_file"] });
    const locked = await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir });
    expect(locked.map((p) => [p.name, p.signed, p.capabilities])).toEqual([["me/tool", false, ["temp_file"]]]);
    // Outside a template: the user's installed list, read back the same way.
    await installPlugin(file, { ui, acceptCapabilities: true, allowUnsigned: true, name: "me/tool", version: "0.1.0", capabilities: [], registry: reg.client });
    expect((await installedPlugins({ stateDir: reg.client.stateDir, cacheDir: reg.client.cacheDir })).map((p) => p.name)).toEqual(["me/tool"]);
  });
});

describe("root rotation", () => {
  test("a valid chain (old keys AND new keys sign root 2) is followed; new index keys are then trusted", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await new RegistryClient(await resolveRegistryConfig(reg.client)).refresh();
    const newRoot = generateKey();
    const newIndex = generateKey();
    await rotateRoot(reg.dir, {
      oldRootKeys: [reg.root],
      newRootKeys: [newRoot],
      newRoles: { root: { keys: [publicOf(newRoot)] }, index: { keys: [publicOf(newIndex)] }, timestamp: { keys: reg.signers.timestamp.map(publicOf) } },
    });
    const idx = (await readRegistryIndex(reg.dir)).signed;
    await writeSignedIndex(reg.dir, { ...idx, version: idx.version + 1 }, { index: [newIndex], timestamp: reg.signers.timestamp });
    const meta = await new RegistryClient(await resolveRegistryConfig(reg.client)).refresh();
    expect(meta.root.version).toBe(2);
    expect(meta.newRoots.map((r) => r.version)).toEqual([2]);
    expect((await init(">= 1"))[0]?.version).toBe("1.0.0");
    // The old index key is no longer trusted.
    await writeSignedIndex(reg.dir, { ...idx, version: idx.version + 2 }, reg.signers);
    await refusal(init(">= 1", { upgrade: true }), "bad-signature", /index is signed only by unknown keys/);
  });

  test("a broken chain (root 2 signed only by the new keys) is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const attackerRoot = generateKey();
    await rotateRoot(reg.dir, {
      oldRootKeys: [],
      newRootKeys: [attackerRoot],
      newRoles: { root: { keys: [publicOf(attackerRoot)] }, index: { keys: [publicOf(attackerRoot)] }, timestamp: { keys: [publicOf(attackerRoot)] } },
    });
    await refusal(init(">= 1"), "bad-signature", /registry http/, /broken root chain: root version 2 \(by root version 1's keys\) is signed only by unknown keys/);
  });

  test("a chain whose new root lacks its own keys' signatures is refused", async () => {
    const newRoot = generateKey();
    await rotateRoot(reg.dir, {
      oldRootKeys: [reg.root],
      newRootKeys: [],
      newRoles: { root: { keys: [publicOf(newRoot)] }, index: { keys: reg.signers.index.map(publicOf) }, timestamp: { keys: reg.signers.timestamp.map(publicOf) } },
    });
    await refusal(init(">= 1"), "bad-signature", /broken root chain: root version 2 \(by its own keys\)/);
  });

  test("a threshold of 2 is not met by one signature", async () => {
    const a = generateKey();
    const b = generateKey();
    await rotateRoot(reg.dir, {
      oldRootKeys: [reg.root],
      newRootKeys: [a],
      newRoles: { root: { keys: [publicOf(a), publicOf(b)], threshold: 2 }, index: { keys: reg.signers.index.map(publicOf) }, timestamp: { keys: reg.signers.timestamp.map(publicOf) } },
    });
    await refusal(init(">= 1"), "bad-signature", /broken root chain: root version 2 \(by its own keys\) has 1 valid signature\(s\) of the 2 required/);
  });

  test("a root file whose version skips is refused", async () => {
    const r2 = await rotateRoot(reg.dir, {
      oldRootKeys: [reg.root],
      newRootKeys: [reg.root],
      newRoles: { root: { keys: [publicOf(reg.root)] }, index: { keys: reg.signers.index.map(publicOf) }, timestamp: { keys: reg.signers.timestamp.map(publicOf) } },
    });
    await writeFile(join(reg.dir, LAYOUT.versionedRoot(2)), JSON.stringify({ ...r2, signed: { ...r2.signed, version: 3 } }));
    await refusal(init(">= 1"), "rollback", /root version 3 found where root version 2 was expected/);
  });
});

describe("offline", () => {
  test("server down: clear error naming the registry; locked, cached plugins still work", async () => {
    await reg.publish("acme/hello", "1.0.0", ["communicator"]);
    await init(">= 1", { accept: true });
    await reg.server.stop();
    const locked = await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir });
    expect(locked.map((p) => `${p.name}@${p.version}`)).toEqual(["acme/hello@1.0.0"]);
    expect((await init(">= 1"))[0]).toMatchObject({ action: "kept", version: "1.0.0" });
    await refusal(init(">= 1", { upgrade: true }), "unreachable", new RegExp(`registry ${reg.url.replace(/[.]/g, "\\.")}: cannot fetch`));
  });

  test("a cached module altered on disk is refused before use", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await init(">= 1");
    const [p] = await lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir });
    const { chmod } = await import("node:fs/promises");
    await chmod(p?.wasmPath ?? "", 0o644);
    await writeFile(p?.wasmPath ?? "", new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    await refusal(lockedPlugins(reg.templateDir, { cacheDir: reg.client.cacheDir }), "mismatch", /plugin acme\/hello/, /altered on disk/);
  });

  test("a lock whose module is missing from the cache says to run imgb init", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await init(">= 1");
    await refusal(lockedPlugins(reg.templateDir, { cacheDir: join(reg.base, "empty-cache") }), "lock", /plugin acme\/hello 1\.0\.0/, /run "imgb init"/);
  });
});
