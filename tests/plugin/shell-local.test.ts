// shell-local end to end through the Provisioner interface: the real wasm built from
// plugins-wasm/shell-local, run in the sandbox child, running real local commands.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll } from "../../plugins-wasm/build.ts";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { noneCommunicator } from "../../core/communicator/types.ts";
import type { Provisioner } from "../../core/plugin/types.ts";
import type { JsonObject } from "../../core/values/json.ts";
import { RecordingUi, buildValues, expectGone, processAlive, sandboxChildren } from "./support.ts";

let catalog: WasmPluginCatalog;
let dir: string;

beforeAll(async () => {
  await buildAll();
  catalog = createPluginCatalog();
  dir = mkdtempSync(join(tmpdir(), "imgb-shell-local-"));
}, 120_000);

afterAll(async () => {
  await catalog.closeAll();
  rmSync(dir, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

async function prepared(config: JsonObject): Promise<Provisioner> {
  const p = await catalog.provisioner("shell-local");
  const r = await p.prepare([config]);
  expect(r.diagnostics).toEqual([]);
  return p;
}

async function run(p: Provisioner, signal = new AbortController().signal): Promise<{ ui: RecordingUi; error: string | null }> {
  const ui = new RecordingUi();
  try {
    await p.provision({ ui, communicator: noneCommunicator(), build: buildValues(), templateDir: dir, signal });
    return { ui, error: null };
  } catch (e) {
    return { ui, error: (e as Error).message };
  }
}

describe("shell-local provisioner", () => {
  test("describe declares the Packer keys and only the capabilities it needs", async () => {
    const d = await catalog.describe("provisioner", "shell-local");
    expect(d.abi).toBe("imgb-plugin/1");
    expect(d.capabilities.sort()).toEqual(["local_exec", "temp_file"]);
    const names = d.schema.fields.map((f) => f.name);
    for (const k of ["command", "inline", "script", "scripts", "environment_vars", "env", "execute_command", "env_var_format", "valid_exit_codes", "only_on", "inline_shebang", "use_linux_pathing"]) {
      expect(names).toContain(k);
    }
    expect(d.schema.fields.find((f) => f.name === "execute_command")?.late).toBe(true);
  });

  test("prepare fills Packer's Unix defaults and merges configs in order (later wins)", async () => {
    const p = await catalog.provisioner("shell-local");
    const r = await p.prepare([{ inline: ["echo a"] }, { inline: ["echo b"], environment_vars: "A=1" }]);
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toMatchObject({
      inline: ["echo b"],
      environment_vars: ["A=1"],
      execute_command: ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"],
      env_var_format: "%s='%s' ",
      inline_shebang: "/bin/sh -e",
      valid_exit_codes: [0],
    });
    await p.close();
  });

  test("prepare reports Packer's validation errors", async () => {
    const p = await catalog.provisioner("shell-local");
    const empty = await p.prepare([{}]);
    expect(empty.diagnostics.map((d) => d.summary)).toEqual(["Command, Inline, Script and Scripts options cannot all be empty."]);
    expect(empty.diagnostics[0]!.detail).toBe("plugin shell-local");
    const many = await p.prepare([{ command: "true", inline: ["true"] }]);
    expect(many.diagnostics[0]!.summary).toStartWith("You may only specify one of the following options: Command, Inline, Script or Scripts.");
    const env = await p.prepare([{ inline: ["true"], environment_vars: ["=x", "NOEQUALS"] }]);
    expect(env.diagnostics.map((d) => d.summary)).toEqual([
      "Environment variable not in format 'key=value': =x",
      "Environment variable not in format 'key=value': NOEQUALS",
    ]);
    const os = await p.prepare([{ inline: ["true"], only_on: ["plan9"] }]);
    expect(os.diagnostics[0]!.summary).toStartWith("Invalid OS specified in only_on: 'plan9'");
    await p.close();
  });

  test("unknown keys and wrong types are diagnostics from the schema, before the plugin runs", async () => {
    const p = await catalog.provisioner("shell-local");
    const r = await p.prepare([{ inline: ["true"], bogus_key: 1, env: ["not", "a", "map"] }]);
    expect(r.diagnostics.map((d) => d.summary)).toEqual([
      `unknown configuration key: '"bogus_key"'`,
      "'env' expected a map, got '[]interface {}'",
    ]);
    expect(r.diagnostics.every((d) => d.detail === "plugin shell-local")).toBe(true);
    await p.close();
  });

  test("inline runs as a #!/bin/sh -e temp script with Packer's UI lines and environment; the script is removed", async () => {
    const p = await prepared({
      inline: ["head -n 1 \"$0\"", "echo \"type=$PACKER_BUILDER_TYPE name=$PACKER_BUILD_NAME v=$V e=$E\"", "echo to-stderr >&2", "echo \"$0\" > " + join(dir, "script-path")],
      environment_vars: ["V=it's here"],
      env: { E: "from env" },
    });
    const { ui, error } = await run(p);
    expect(error).toBeNull();
    expect(ui.lines[0]).toMatch(/^say: Running local shell script: \/tmp\/packer-shell\d+$/);
    expect(ui.lines.slice(1)).toEqual(["message: #!/bin/sh -e", "message: type=null name=example v=it's here e=from env", "error: to-stderr"]);
    const scriptPath = readFileSync(join(dir, "script-path"), "utf8").trim();
    expect(ui.lines[0]).toBe(`say: Running local shell script: ${scriptPath}`);
    expect(existsSync(scriptPath)).toBe(false);
    await p.close();
  });

  test("-e stops at the first failing line; exit status outside valid_exit_codes is Packer's error", async () => {
    const p = await prepared({ inline: ["echo one", "sh -c 'exit 3'", "echo never"] });
    const { ui, error } = await run(p);
    expect(error).toBe("plugin shell-local: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]");
    expect(ui.lines.filter((l) => l.startsWith("message:"))).toEqual(["message: one"]);
    await p.close();
    const allowed = await prepared({ inline: ["exit 3"], valid_exit_codes: [0, 3] });
    expect((await run(allowed)).error).toBeNull();
    await allowed.close();
    const listed = await prepared({ inline: ["exit 4"], valid_exit_codes: [0, 3] });
    expect((await run(listed)).error).toBe("plugin shell-local: Script exited with non-zero exit status: 4.Allowed exit codes are: [0 3]");
    await listed.close();
  });

  test("scripts run in order with a custom execute_command and env_var_format", async () => {
    const a = join(dir, "a.sh");
    const b = join(dir, "b.sh");
    writeFileSync(a, 'echo "a:$X"\n');
    writeFileSync(b, 'echo "b:$X"\n');
    const p = await prepared({
      scripts: [a, b],
      environment_vars: ["X=1"],
      env_var_format: "export %s='%s'; ",
      execute_command: ["/bin/sh", "-c", "{{.Vars}} /bin/sh {{.Script}}"],
    });
    const { ui, error } = await run(p);
    expect(error).toBeNull();
    expect(ui.lines).toEqual([`say: Running local shell script: ${a}`, "message: a:1", `say: Running local shell script: ${b}`, "message: b:1"]);
    await p.close();
  });

  test("command and script are single-entry forms", async () => {
    const s = join(dir, "single.sh");
    writeFileSync(s, "echo single\n");
    const p1 = await prepared({ script: s, execute_command: ["/bin/sh", "{{.Script}}"] });
    expect((await run(p1)).ui.lines).toEqual([`say: Running local shell script: ${s}`, "message: single"]);
    await p1.close();
    const p2 = await prepared({ command: "echo from-command" });
    expect((await run(p2)).ui.lines.slice(1)).toEqual(["message: from-command"]);
    await p2.close();
  });

  test("only_on without this OS skips the provisioner", async () => {
    const p = await prepared({ inline: ["echo no"], only_on: ["windows"] });
    expect((await run(p)).ui.lines).toEqual(["say: Skipping shell-local due to runtime OS"]);
    await p.close();
  });

  test("abort kills the script's whole process group (Packer leaves the children running)", async () => {
    const pidFile = join(dir, "child.pid");
    const p = await prepared({ inline: [`sleep 30 & echo $! > ${pidFile}`, "wait"] });
    const ac = new AbortController();
    const started = Date.now();
    const pending = run(p, ac.signal);
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await Bun.sleep(10);
    await Bun.sleep(50);
    const childPid = Number(readFileSync(pidFile, "utf8").trim());
    expect(processAlive(childPid)).toBe(true);
    ac.abort(new Error("Cancelling provisioner after a timeout..."));
    const { error } = await pending;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toStartWith("plugin shell-local: ");
    await expectGone([childPid]);
    expect(error).toContain("Error executing script: /tmp/packer-shell");
    // The instance is still usable after an abort.
    await p.prepare([{ inline: ["echo again"] }]);
    expect((await run(p)).ui.lines.slice(1)).toEqual(["message: again"]);
    await p.close();
  });

  test("closing the catalog during a run stops the local command too", async () => {
    const cat = createPluginCatalog();
    const pidFile = join(dir, "close.pid");
    const p = await cat.provisioner("shell-local");
    await p.prepare([{ inline: [`echo $$ > ${pidFile}`, "sleep 30"] }]);
    const pending = p
      .provision({ ui: new RecordingUi(), communicator: noneCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal })
      .then(() => null, (e: unknown) => (e as Error).message);
    for (let i = 0; i < 200 && !(existsSync(pidFile) && readFileSync(pidFile, "utf8").trim()); i++) await Bun.sleep(10);
    const shellPid = Number(readFileSync(pidFile, "utf8").trim());
    expect(processAlive(shellPid)).toBe(true);
    await cat.closeAll();
    expect(await pending).toStartWith("plugin shell-local: ");
    await expectGone([shellPid]);
  });

  test("closing the catalog leaves no sandbox process behind", async () => {
    const cat = createPluginCatalog();
    const p = (await cat.provisioner("shell-local")) as Provisioner & { pids: number[] };
    await p.prepare([{ inline: ["true"] }]);
    const pids = p.pids;
    expect(pids.length).toBe(1);
    expect(processAlive(pids[0]!)).toBe(true);
    await cat.closeAll();
    await expectGone(pids);
  });
});
