// `imgb plugin new`: the scaffolded provisioner and post-processor compile with the real toolchain
// and run through the catalog as they are.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { scaffoldPlugin } from "../../core/plugin/scaffold.ts";
import { compilePlugin } from "../../plugins-wasm/build.ts";
import { createPluginCatalog } from "../../core/plugin/catalog.ts";
import { localCommunicator } from "../../core/communicator/local.ts";
import { RecordingUi, buildValues, expectGone, sandboxChildren } from "./support.ts";

const base = join(import.meta.dir, "..", ".tmp");
mkdirSync(base, { recursive: true });
const dir = mkdtempSync(join(base, "scaffold-"));
const catalog = createPluginCatalog({ embedded: false });

afterAll(async () => {
  await catalog.closeAll();
  rmSync(dir, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

describe("scaffoldPlugin", () => {
  test("refuses bad names and existing folders", () => {
    expect(() => scaffoldPlugin("Bad_Name", dir)).toThrow("use lower-case letters");
    scaffoldPlugin("taken", dir);
    expect(() => scaffoldPlugin("taken", dir)).toThrow("already exists");
  });

  test("a scaffolded provisioner builds and runs", async () => {
    const folder = scaffoldPlugin("hello", dir);
    const wasm = join(dir, "hello.wasm");
    await compilePlugin(join(folder, "assembly", "plugin.ts"), wasm);
    const d = await catalog.registerInstalledPlugin(wasm, ["communicator"]);
    expect(d).toMatchObject({ kind: "provisioner", name: "hello", capabilities: ["communicator"] });
    const p = await catalog.provisioner("hello");
    expect((await p.prepare([{ message: "" }])).diagnostics.map((x) => x.summary)).toEqual(["message must not be empty"]);
    expect((await p.prepare([{ message: "hi", command: "echo from-comm" }])).diagnostics).toEqual([]);
    const ui = new RecordingUi();
    await p.provision({ ui, communicator: localCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal });
    expect(ui.lines).toEqual(["say: hi (null.example)", "message: from-comm"]);
  }, 60_000);

  test("a scaffolded post-processor builds and runs", async () => {
    const folder = scaffoldPlugin("annotate", dir, { kind: "post-processor" });
    const wasm = join(dir, "annotate.wasm");
    await compilePlugin(join(folder, "assembly", "plugin.ts"), wasm);
    await catalog.registerInstalledPlugin(wasm, ["artifact_read"]);
    const pp = await catalog.postProcessor("annotate");
    expect((await pp.configure([{}])).diagnostics).toEqual([]);
    const ui = new RecordingUi();
    const input = { builderId: "packer.file", id: "a1", files: ["/x"], string: "s", state: {}, destroy: async () => {} };
    const r = await pp.postProcess({ ui, build: buildValues(), templateDir: dir, signal: new AbortController().signal }, input);
    expect(ui.lines).toEqual(["say: annotate: 1 file(s) in a1"]);
    expect(r.keep).toBe(true);
    expect(r.artifact.builderId).toBe("annotate");
  }, 60_000);
});
