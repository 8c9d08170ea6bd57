// The breakpoint provisioner (plugins-wasm/breakpoint): through the catalog with a recording UI, and
// through the real CLI both without a terminal (it says why it does not pause and goes on) and on a
// real pseudo-terminal (util-linux `script`), where the build waits until Enter is pressed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll } from "../../plugins-wasm/build.ts";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { noneCommunicator } from "../../core/communicator/types.ts";
import type { JsonObject } from "../../core/values/json.ts";
import { RecordingUi, buildValues, expectGone, sandboxChildren } from "../plugin/support.ts";

const MAIN = join(import.meta.dir, "..", "..", "cmd", "main.ts");
let catalog: WasmPluginCatalog;
let dir: string;
let template: string;

beforeAll(async () => {
  await buildAll();
  catalog = createPluginCatalog();
  dir = mkdtempSync(join(tmpdir(), "imgb-breakpoint-"));
  template = join(dir, "t.json");
  writeFileSync(
    template,
    JSON.stringify({
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [
        { type: "shell-local", inline: ["echo before"] },
        { type: "breakpoint", note: "look here" },
        { type: "breakpoint", disable: true },
        { type: "shell-local", inline: ["echo after"] },
      ],
    }),
  );
}, 120_000);
afterAll(async () => {
  await catalog.closeAll();
  rmSync(dir, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

async function run(config: JsonObject, ui = new RecordingUi()): Promise<string[]> {
  const p = await catalog.provisioner("breakpoint");
  try {
    expect((await p.prepare([config])).diagnostics).toEqual([]);
    await p.provision({ ui, communicator: noneCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal });
    return ui.lines;
  } finally {
    await p.close();
  }
}

describe("breakpoint", () => {
  test("describe: note and disable; the only capability is asking the user", async () => {
    const d = await catalog.describe("provisioner", "breakpoint");
    expect(d.capabilities).toEqual(["ui_ask"]);
    expect(d.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(["note:string", "disable:bool"]);
  });

  test("pauses with Packer's lines and waits for the answer", async () => {
    expect(await run({ note: "foo bar baz" })).toEqual(['say: Pausing at breakpoint provisioner with note "foo bar baz".', "ask: Press enter to continue."]);
    expect(await run({})).toEqual(["say: Pausing at breakpoint provisioner.", "ask: Press enter to continue."]);
  });

  test("disable = true skips it, saying so", async () => {
    expect(await run({ disable: true, note: "n1" })).toEqual(['say: Breakpoint provisioner with note "n1" disabled; continuing...']);
    expect(await run({ disable: "true" })).toEqual(["say: Breakpoint provisioner disabled; continuing..."]);
  });

  test("wrong types are diagnostics naming the key", async () => {
    const p = await catalog.provisioner("breakpoint");
    const r = await p.prepare([{ disable: "sometimes", note: ["a"] }]);
    expect(r.diagnostics.map((d) => d.summary)).toEqual([
      `cannot parse 'disable' as bool: strconv.ParseBool: parsing "sometimes": invalid syntax`,
      "'note' expected type 'string', got unconvertible type '[]interface {}'",
    ]);
    await p.close();
  });

  test("without a terminal (imgb build < /dev/null) the build says why it does not pause and goes on", async () => {
    const proc = Bun.spawn([process.execPath, MAIN, "build", "-color=false", template], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    expect(code).toBe(0);
    const lines = out.split("\n");
    const i = lines.indexOf('==> null: Pausing at breakpoint provisioner with note "look here".');
    expect(i).toBeGreaterThan(0);
    expect(lines.slice(i + 1, i + 5)).toEqual([
      "==> null: Breakpoint skipped: standard input is not a terminal, so nobody can press enter; continuing...",
      "==> null: Breakpoint provisioner disabled; continuing...",
      expect.stringMatching(/^==> null: Running local shell script: \/tmp\/packer-shell\d+$/),
      "    null: after",
    ]);
  }, 30_000);

  test("on a terminal the build waits at the breakpoint until Enter is pressed", async () => {
    // `script` gives the CLI a real pseudo-terminal; what we write to its stdin is typed on it.
    const cmd = `${process.execPath} ${MAIN} build -color=false ${template}`;
    const proc = Bun.spawn(["script", "-qefc", cmd, "/dev/null"], { cwd: dir, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reader = (async () => {
      for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk);
    })();
    const deadline = Date.now() + 20_000;
    while (!out.includes("Press enter to continue.") && Date.now() < deadline) await Bun.sleep(20);
    expect(out).toContain("==> null: Press enter to continue.");
    await Bun.sleep(700);
    expect(out).not.toContain("after");
    proc.stdin.write("\n");
    await proc.stdin.end();
    expect(await proc.exited).toBe(0);
    await reader;
    expect(out).toContain("    null: after");
    expect(out).toContain("Breakpoint provisioner disabled; continuing...");
  }, 30_000);
});
