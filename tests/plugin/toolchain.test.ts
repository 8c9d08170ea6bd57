// `imgb plugin new|build|test` as functions: a scaffolded project (SDK written from the embedded
// sources) compiles with the in-process compiler, passes the load-time checks, and its own test
// run exercises describe, prepare/configure and a real run; broken projects give clear errors.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scaffoldPlugin } from "../../core/plugin/scaffold.ts";
import { buildPluginProject } from "../../core/plugin/toolchain/project.ts";
import { testPluginProject } from "../../core/plugin/toolchain/test-run.ts";
import { expectGone, sandboxChildren } from "./support.ts";

const base = join(import.meta.dir, "..", ".tmp");
mkdirSync(base, { recursive: true });
const dir = mkdtempSync(join(base, "toolchain-"));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

async function report(folder: string): Promise<{ failed: number; lines: string[] }> {
  const lines: string[] = [];
  const failed = await testPluginProject(folder, (l) => lines.push(l));
  return { failed, lines };
}

describe("plugin projects", () => {
  test("names follow the registry rule; folders are not overwritten", async () => {
    await expect(scaffoldPlugin("motd", dir)).rejects.toThrow('use "namespace/name"');
    await expect(scaffoldPlugin("Acme/motd", dir)).rejects.toThrow('use "namespace/name"');
    await scaffoldPlugin("acme/taken", dir);
    await expect(scaffoldPlugin("acme/taken", dir)).rejects.toThrow("already exists");
  });

  test("a new provisioner is self-contained, builds, and its test run passes", async () => {
    const folder = await scaffoldPlugin("acme/motd", dir);
    expect(readFileSync(join(folder, "assembly", "plugin.ts"), "utf8")).toContain('from "../sdk/assembly/sdk"');
    expect(readFileSync(join(folder, "sdk", "assembly", "sdk.ts"), "utf8")).toBe(readFileSync(join(import.meta.dir, "..", "..", "plugins-wasm", "sdk", "assembly", "sdk.ts"), "utf8"));
    const built = await buildPluginProject(folder);
    expect(built.wasm).toBe(join(folder, "dist", "motd.wasm"));
    expect(built.description).toMatchObject({ kind: "provisioner", name: "acme/motd", capabilities: ["communicator"] });
    const r = await report(folder);
    expect(r.failed).toBe(0);
    expect(r.lines).toContain("ok   prepare rejects bad[0]: message must not be empty");
    expect(r.lines).toContain("    ==> hello from the plugin test (plugin-test)");
    expect(r.lines).toContain("        ran on the machine");
  }, 120_000);

  test("a new post-processor builds and its test run passes", async () => {
    const folder = await scaffoldPlugin("acme/stamp", dir, { kind: "post-processor" });
    await buildPluginProject(folder);
    const r = await report(folder);
    expect(r.failed).toBe(0);
    expect(r.lines.some((l) => /^ok {3}post_process -> artifact plugin-test \(1 file\(s\)\), keep=true$/.test(l))).toBe(true);
  }, 120_000);

  test("compile errors, a describe name that differs from the manifest, and failing samples are reported", async () => {
    const folder = await scaffoldPlugin("acme/broken", dir);
    const src = join(folder, "assembly", "plugin.ts");
    const good = readFileSync(src, "utf8");
    writeFileSync(src, good.replace("Ui.say(", "Ui.sayy("));
    await expect(buildPluginProject(folder)).rejects.toThrow(/acme\/broken: compile errors:\n[\s\S]*sayy/);
    writeFileSync(src, good.replace('"acme/broken", "0.1.0"', '"acme/other", "0.1.0"'));
    await expect(buildPluginProject(folder)).rejects.toThrow('describe says provisioner "acme/other", but imgb-plugin.json says provisioner "acme/broken"');
    writeFileSync(src, good);
    await buildPluginProject(folder);
    writeFileSync(join(folder, "test", "configs.json"), JSON.stringify({ good: [{ message: "" }], bad: [{ config: { message: "x" }, error: "nope" }] }));
    const r = await report(folder);
    expect(r.failed).toBe(3);
    expect(r.lines).toContain("FAIL prepare good[0]: message must not be empty");
    expect(r.lines).toContain('FAIL prepare bad[0]: expected an error containing "nope", got none');
  }, 120_000);
});
