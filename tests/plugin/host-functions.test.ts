// Host functions end to end with real parts: the communicator calls against the local communicator,
// and the post-processor path (configure, post_process with chunked artifact_read/artifact_write).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { localCommunicator } from "../../core/communicator/local.ts";
import type { Artifact } from "../../core/engine/artifact.ts";
import { hostileBytes } from "./hostile/build.ts";
import { RecordingUi, buildValues, expectGone, sandboxChildren } from "./support.ts";

let catalog: WasmPluginCatalog;
let dir: string;

beforeAll(async () => {
  catalog = createPluginCatalog({ embedded: false });
  await catalog.registerWasm(await hostileBytes("probe"), ["communicator", "ui_ask"]);
  await catalog.registerWasm(await hostileBytes("copier"), ["artifact_read", "artifact_write"]);
  dir = mkdtempSync(join(tmpdir(), "imgb-hostfn-"));
}, 120_000);

afterAll(async () => {
  await catalog.closeAll();
  rmSync(dir, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

describe("communicator host functions", () => {
  test("comm_start streams lines to the UI or returns them; upload keeps mode and UTF-8; download returns bytes", async () => {
    const p = await catalog.provisioner("probe");
    expect((await p.prepare([{ action: "comm", path: dir }])).diagnostics).toEqual([]);
    const ui = new RecordingUi();
    await p.provision({ ui, communicator: localCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal });
    expect(ui.lines).toEqual([
      "message: out-line",
      "error: err-line",
      "say: comm exit 7",
      "say: returned captured",
      "say: downloaded uploaded é😀",
    ]);
    expect(statSync(join(dir, "up.txt")).mode & 0o777).toBe(0o640);
    await p.close();
  });

  test("without the capability the communicator is refused", async () => {
    const cat = createPluginCatalog({ embedded: false });
    await cat.registerWasm(await hostileBytes("probe"), []);
    const p = await cat.provisioner("probe");
    await p.prepare([{ action: "comm", path: dir }]);
    const ui = new RecordingUi();
    await expect(
      p.provision({ ui, communicator: localCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal }),
    ).rejects.toThrow("plugin probe: capability communicator refused: not granted to this plugin (comm_start)");
    await cat.closeAll();
  });
});

describe("UI host functions", () => {
  test("ui_ask returns the answer; ui_progress starts, updates and finishes a tracker", async () => {
    const p = await catalog.provisioner("probe");
    await p.prepare([{ action: "ask" }]);
    const ui = new RecordingUi();
    ui.answers.push("yes");
    const events: string[] = [];
    ui.progress = (label: string, total?: number) => {
      events.push(`start ${label} ${total}`);
      return { update: (d: number) => events.push(`update ${d}`), finish: () => events.push("finish") };
    };
    await p.provision({ ui, communicator: localCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal });
    expect(ui.lines).toEqual(["ask: Continue?", "say: answer yes"]);
    expect(events).toEqual(["start work 10", "update 5", "finish"]);
    await p.close();
  });
});

describe("post-processor path", () => {
  function inputArtifact(files: string[]): Artifact & { destroyed: boolean } {
    const a = {
      builderId: "packer.file",
      id: "in",
      files,
      string: "input",
      state: {},
      destroyed: false,
      destroy: async () => {
        a.destroyed = true;
      },
    };
    return a;
  }

  test("configure validates; post_process copies in chunks and answers a new artifact with keep/force_override", async () => {
    const src = join(dir, "input.bin");
    const data = new Uint8Array(3 * 2 ** 20 + 123).map((_, i) => (i * 7) & 0xff);
    writeFileSync(src, data);
    const out = mkdtempSync(join(tmpdir(), "imgb-pp-out-"));
    const pp = await catalog.postProcessor("copier");
    const bad = await pp.configure([{ suffix: "" }]);
    expect(bad.diagnostics.map((d) => d.summary)).toEqual(["suffix must not be empty"]);
    const good = await pp.configure([{ suffix: ".copy", keep_input: true, chunk: 1048576 }]);
    expect(good.diagnostics).toEqual([]);
    const ui = new RecordingUi();
    const input = inputArtifact([src]);
    const r = await pp.postProcess({ ui, build: buildValues(), templateDir: dir, signal: new AbortController().signal, outputDir: out }, input);
    const dest = join(out, "input.bin.copy");
    expect(r.keep).toBe(true);
    expect(r.forceOverride).toBe(true);
    expect(r.artifact.builderId).toBe("imgb.test.copier");
    expect(r.artifact.files).toEqual([dest]);
    expect(r.artifact.state).toEqual({ source_builder: "packer.file" });
    expect(ui.lines).toEqual(["say: copied 1 file(s)"]);
    expect(new Uint8Array(readFileSync(dest))).toEqual(data);
    await r.artifact.destroy();
    expect(existsSync(dest)).toBe(false);
    expect(input.destroyed).toBe(false);
    await pp.close();
    rmSync(out, { recursive: true, force: true });
  });

  test("writing outside the output folder is refused", async () => {
    const pp = await catalog.postProcessor("copier");
    await pp.configure([{ suffix: ".copy", dest_dir: "/tmp/elsewhere" }]);
    const src = join(dir, "small.txt");
    writeFileSync(src, "x");
    const input = inputArtifact([src]);
    await expect(
      pp.postProcess({ ui: new RecordingUi(), build: buildValues(), templateDir: dir, signal: new AbortController().signal, outputDir: dir }, input),
    ).rejects.toThrow('plugin copier: capability artifact_write refused for "/tmp/elsewhere/small.txt.copy": outside the output directory');
    await pp.close();
  });
});
