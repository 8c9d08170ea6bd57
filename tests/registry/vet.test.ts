// `imgb registry vet` and the vetting `imgb registry publish` runs: the module must describe itself as
// the statement being signed says (the audit's case: a statement for acme/wrong 9.9.9 + local_exec over
// a module that is acme/hello 1.0.0), capabilities follow the policy, sizes stay within the limits,
// and the index records which checks ran. With the plugin's source (a git checkout), the module must be
// what `imgb plugin build` makes of the named commit in a clean folder, and the plugin's own
// `imgb plugin test` must pass with it.
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scaffoldPlugin } from "../../core/plugin/scaffold.ts";
import { buildPluginProject } from "../../core/plugin/toolchain/project.ts";
import { compilePlugin } from "../../plugins-wasm/build.ts";
import { registryPublishCommand, registrySignCommand, registryVetCommand } from "../../core/registry/commands.ts";
import { writeKeyPair } from "../../core/registry/keys.ts";
import { readRegistryIndex } from "../../core/registry/repository.ts";
import { trustPublisher } from "../../core/registry/publish.ts";
import { makeRegistry, refusal, TestUi, tinyWasm, type TestRegistry } from "./harness.ts";

const WASM = join(import.meta.dir, "..", ".tmp", "plugins", "registry-acme-hello.wasm");
let reg: TestRegistry;
let keyPath: string;
let wasmPath: string;

beforeAll(async () => {
  await compilePlugin(join(import.meta.dir, "fixtures", "hello", "assembly", "plugin.ts"), WASM);
}, 120_000);
beforeEach(async () => {
  reg = await makeRegistry();
  const k = await writeKeyPair(join(reg.base, "pub"));
  keyPath = k.privatePath;
  const pub = JSON.parse(await readFile(k.publicPath, "utf8"));
  await trustPublisher(reg.dir, { keytype: pub.keytype, public: pub.public }, ["acme"], reg.signers);
  wasmPath = join(reg.base, "hello.wasm");
  await writeFile(wasmPath, await readFile(WASM));
});
afterEach(async () => {
  await reg.close();
});

async function sign(name: string, version: string, capabilities: string[], out: string, wasm = wasmPath) {
  return registrySignCommand({ wasm, name, version, capabilities, key: keyPath, out: join(reg.base, out) }, new TestUi());
}

const keys = () => ({ indexKeys: [join(reg.base, "index.key")], timestampKeys: [join(reg.base, "timestamp.key")] });

async function writeSigners() {
  await writeFile(join(reg.base, "index.key"), JSON.stringify(reg.signers.index[0]));
  await writeFile(join(reg.base, "timestamp.key"), JSON.stringify(reg.signers.timestamp[0]));
}

const publishArgs = (statement: string, note?: string) => ({
  dir: reg.dir,
  wasm: wasmPath,
  statement,
  reviewer: "r@example.org",
  repository: "https://example.org/acme/hello",
  commit: "abcdef1",
  ...(note !== undefined ? { note } : {}),
  ...keys(),
});

describe("vetting", () => {
  test("a statement that is not what the module describes is refused, with the differences", async () => {
    await writeSigners();
    const st = await sign("acme/wrong", "9.9.9", ["communicator"], "wrong.json");
    const ui = new TestUi();
    expect(await registryVetCommand({ wasm: wasmPath, statement: st }, ui)).toBe(1);
    expect(ui.text).toContain("FAIL statement: name: module says acme/hello, statement acme/wrong; version: module says 1.0.0, statement 9.9.9; capabilities: module declares local_exec, statement communicator");
    expect(ui.text).toContain("---- reproducible: needs the source");
    await refusal(registryPublishCommand(publishArgs(st), new TestUi()), "usage", /vetting failed: statement/);
    expect((await readRegistryIndex(reg.dir)).signed.plugins["acme/wrong"]).toBeUndefined();
  });

  test("local_exec needs a reviewer note; with one, the index records the note and the checks that passed", async () => {
    await writeSigners();
    const st = await sign("acme/hello", "1.0.0", ["local_exec"], "hello.json");
    await refusal(registryPublishCommand(publishArgs(st), new TestUi()), "usage", /policy \(local_exec needs a reviewer note/);
    await registryPublishCommand(publishArgs(st, "writes one marker file"), new TestUi());
    const pv = (await readRegistryIndex(reg.dir)).signed.plugins["acme/hello"]?.versions["1.0.0"];
    expect(pv?.vetting).toMatchObject({ note: "writes one marker file", checks: ["load", "statement", "policy", "limits"] });
  });

  test("a module that does not load, or is over the policy's size, fails its checks", async () => {
    await writeSigners();
    const junk = join(reg.base, "junk.wasm");
    await writeFile(junk, tinyWasm("not a plugin"));
    const st = await sign("acme/hello", "1.0.0", [], "junk.json", junk);
    const ui = new TestUi();
    expect(await registryVetCommand({ wasm: junk, statement: st }, ui)).toBe(1);
    expect(ui.text).toMatch(/FAIL load: .*describe/);
    const policy = join(reg.base, "policy.json");
    await writeFile(policy, JSON.stringify({ maxModuleBytes: 1000, noteRequired: [] }));
    const st2 = await sign("acme/hello", "1.0.0", ["local_exec"], "hello2.json");
    const ui2 = new TestUi();
    expect(await registryVetCommand({ wasm: wasmPath, statement: st2, policy }, ui2)).toBe(1);
    expect(ui2.text).toMatch(/FAIL limits: module \d+ bytes > 1000/);
    expect(ui2.text).toContain("PASS policy");
  });
});

describe("vetting from the source", () => {
  const git = (dir: string, ...args: string[]) => {
    const r = Bun.spawnSync(["git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.toString().trim();
  };

  test("the module rebuilt from the named commit and the plugin's own tests pass; another module fails both", async () => {
    await writeSigners();
    // The publisher's repository: the plugin in a subfolder, committed; then a later commit changes it.
    const repo = join(reg.base, "repo");
    Bun.spawnSync(["mkdir", "-p", repo]);
    git(repo, "init", "-q");
    const src = await scaffoldPlugin("acme/motd", repo);
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "motd 0.1.0");
    const first = git(repo, "rev-parse", "HEAD");
    // The submitted module: built in the publisher's own folder (not a clean one).
    const built = await buildPluginProject(src, { check: false });
    const submitted = join(reg.base, "motd.wasm");
    await writeFile(submitted, await readFile(built.wasm));
    const source = join(src, "assembly", "plugin.ts");
    writeFileSync(source, readFileSync(source, "utf8").replace("What to say", "What to say, changed later"));
    git(repo, "commit", "-qam", "a later change");

    const st = await sign("acme/motd", "0.1.0", ["communicator"], "motd.json", submitted);
    const ui = new TestUi();
    expect(await registryVetCommand({ wasm: submitted, statement: st, source: src, commit: first }, ui), ui.text).toBe(0);
    expect(ui.text).toMatch(new RegExp(`PASS reproducible: imgb plugin build of commit ${first} of .* gives the same sha256 [0-9a-f]{64}`));
    expect(ui.text).toContain("PASS plugin-test: the plugin's own tests (imgb plugin test) pass with this module in the sandbox");
    expect(ui.text).toContain("vetted: load, statement, policy, limits, reproducible, plugin-test");

    // Another module (the hello fixture) against HEAD, the later commit: the rebuild differs, and
    // the plugin's tests do not find the plugin they test.
    const ui2 = new TestUi();
    const st2 = await sign("acme/hello", "1.0.0", ["local_exec"], "hello-as-motd.json");
    expect(await registryVetCommand({ wasm: wasmPath, statement: st2, source: src, note: "n" }, ui2)).toBe(1);
    expect(ui2.text).toMatch(/FAIL reproducible: imgb plugin build of \S+ in a clean folder gives sha256 ([0-9a-f]{64}), the module is (?!\1)[0-9a-f]{64}/);
    expect(ui2.text).toContain("FAIL plugin-test: imgb plugin test: Unknown provisioner acme/motd");
  }, 240_000);
});
