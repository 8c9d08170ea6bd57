// HCL2 `data` blocks served by a Packer plugin's data sources, through the compiled binary. The
// plugin is tests/support/datasource-plugin.ts, installed as `packer init` installs a
// multi-component plugin (packer 1.6.6 has no data sources, and no SDK-built plugin can be had here).
// It describes itself as protocol v2, so imgb starts it with --protobuf as Packer does.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { goArch } from "../../core/packer-plugin/discover.ts";
import { requireBinary, runImgb } from "../support/binary.ts";
import { processAlive } from "../support/processes.ts";

const PLUGIN_FILE = `packer-plugin-acme_v1.0.0_x5.0_${process.platform}_${goArch()}`;
let dir: string;
let logs: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-datasource-"));
  logs = join(dir, "logs");
  const folder = join(dir, "plugins", "github.com", "acme", "acme");
  mkdirSync(folder, { recursive: true });
  mkdirSync(logs);
  mkdirSync(join(dir, "tmp"));
  const script = join(folder, PLUGIN_FILE);
  writeFileSync(script, `#!/bin/sh\nexec ${process.execPath} ${resolve(import.meta.dir, "../support/datasource-plugin.ts")} "$@"\n`);
  chmodSync(script, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// TMPDIR inside the test's folder: a plugin killed while starting cannot remove its socket folder.
const env = () => ({ PACKER_PLUGIN_PATH: join(dir, "plugins"), IMGB_TEST_DS_DIR: logs, TMPDIR: join(dir, "tmp") });

/** A template folder of its own; the plugin's logs start empty. */
function template(name: string, hcl: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "t.pkr.hcl"), hcl);
  for (const c of ["echo", "fail", "hang", "crash"]) rmSync(join(logs, `${c}.log`), { force: true });
  return d;
}
const log = (component: string): string => (existsSync(join(logs, `${component}.log`)) ? readFileSync(join(logs, `${component}.log`), "utf8") : "");
const pidsIn = (text: string): number[] => [...text.matchAll(/^pid (\d+)$/gm)].map((m) => Number(m[1]));

const ECHO = `data "acme-echo" "who" {
  name  = "big world"
  times = 2
}
source "null" "n" { communicator = "none" }
build {
  sources = ["source.null.n"]
  provisioner "shell-local" {
    inline = ["echo greeting=\${data.acme-echo.who.greeting} shout=\${data.acme-echo.who.shout} length=\${data.acme-echo.who.length} first=\${data.acme-echo.who.words[0]}"]
  }
}
`;

describe("data sources from a Packer plugin", () => {
  test("build: Configure gets the decoded block, Execute's value is used by a provisioner; the plugin is gone after (protobuf as negotiated, and gob under PACKER_FORCE_GOB)", async () => {
    for (const [encoding, extra] of [["protobuf", {}], ["gob", { PACKER_FORCE_GOB: "1" }]] as const) {
      const d = template(`build-${encoding}`, ECHO);
      const r = await runImgb(["build", "-color=false", "."], { cwd: d, env: { ...env(), ...extra } });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("greeting=hello, big world shout=BIG WORLD-BIG WORLD length=9 first=big");
      expect(log("echo")).toContain(`encoding ${encoding}`);
      expect(log("echo")).toContain('configured {"name":"big world","times":2}');
      expect(log("echo")).toContain("executing");
      for (const pid of pidsIn(log("echo"))) expect(processAlive(pid)).toBe(false);
    }
  }, 60_000);

  test("validate configures but does not execute (an unknown placeholder of OutputSpec's type), as Packer 1.9; -evaluate-datasources executes", async () => {
    const d = template("validate", ECHO);
    const r = await runImgb(["validate", "."], { cwd: d, env: env() });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("The configuration is valid.");
    expect(log("echo")).toContain("configured");
    expect(log("echo")).not.toContain("executing");

    const e = await runImgb(["validate", "-evaluate-datasources", "."], { cwd: d, env: env() });
    expect(e.exitCode, e.stdout + e.stderr).toBe(0);
    expect(log("echo")).toContain("executing");

    // The placeholder has the output's attributes and no others, as cty.UnknownVal(ImpliedType(OutputSpec)).
    const bad = template("validate-attr", ECHO.replace("data.acme-echo.who.length", "data.acme-echo.who.size"));
    const b = await runImgb(["validate", "."], { cwd: bad, env: env() });
    expect(b.exitCode).toBe(1);
    expect(b.stderr).toContain("t.pkr.hcl:9:");
    expect(b.stderr).toContain("size");
  }, 60_000);

  test("an unknown key or a mistyped value in the block is reported where it is, before the plugin is configured", async () => {
    const d = template("unknown", ECHO.replace("  times = 2\n", '  times = 2\n  colour = "red"\n'));
    const r = await runImgb(["validate", "."], { cwd: d, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("t.pkr.hcl:4:3");
    expect(r.stderr).toContain('An argument named "colour" is not expected here.');
    expect(r.stderr.match(/Error: /g)).toHaveLength(1);
    expect(log("echo")).not.toContain("configured");

    const t = template("mistyped", ECHO.replace("times = 2", "times = [1]"));
    const m = await runImgb(["validate", "."], { cwd: t, env: env() });
    expect(m.exitCode).toBe(1);
    expect(m.stderr).toContain("t.pkr.hcl:3:");
    expect(m.stderr).toMatch(/number required/);

    // A type no installed plugin serves.
    const u = template("unserved", ECHO.replace('"acme-echo" "who"', '"amazon-ami" "who"').replaceAll("data.acme-echo", "data.amazon-ami"));
    const w = await runImgb(["validate", "."], { cwd: u, env: env() });
    expect(w.exitCode).toBe(1);
    expect(w.stderr).toContain("t.pkr.hcl:1:1");
    expect(w.stderr).toContain('The data source type "amazon-ami" is not known; known types: host-info, null; no installed Packer plugin serves it either');

    // A Required AttrSpec of the ConfigSpec: hcldec's error, at the block.
    const n = template("missing", ECHO.replace('  name  = "big world"\n', ""));
    const q = await runImgb(["validate", "."], { cwd: n, env: env() });
    expect(q.exitCode).toBe(1);
    expect(q.stderr).toContain("t.pkr.hcl:1:1");
    expect(q.stderr).toContain('The argument "name" is required');
    expect(log("echo")).not.toContain("configured");
  }, 60_000);

  test("a data source whose Execute fails, or whose plugin crashes: the build fails naming the plugin, the data source and what happened", async () => {
    const d = template("fail", ECHO.replace('data "acme-echo" "who" {', 'data "acme-fail" "img" {').replaceAll("data.acme-echo.who", "data.acme-fail.img"));
    const r = await runImgb(["build", "-color=false", "."], { cwd: d, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("t.pkr.hcl:1:1");
    expect(r.stderr).toContain("data.acme-fail.img");
    expect(r.stderr).toContain(PLUGIN_FILE);
    expect(r.stderr).toContain("no image named big world was found");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const pid of pidsIn(log("fail"))) expect(processAlive(pid)).toBe(false);

    // A plugin that dies during Execute: how it ended, and its last words.
    const c = template("crash", ECHO.replace('data "acme-echo" "who" {', 'data "acme-crash" "c" {').replaceAll("data.acme-echo.who", "data.acme-crash.c"));
    const x = await runImgb(["build", "-color=false", "."], { cwd: c, env: env() });
    expect(x.exitCode).toBe(1);
    expect(x.stderr).toContain("data.acme-crash.c");
    expect(x.stderr).toContain(PLUGIN_FILE);
    expect(x.stderr).toContain("exited with status 2");
    expect(x.stderr).toContain("nil pointer dereference");
  }, 60_000);

  /** Starts a build of the hanging data source, waits for the plugin to reach `mark`, then sends Ctrl-C. */
  async function interruptAt(name: string, mark: string, extra: Record<string, string> = {}) {
    // The echo block needs nothing from the hanging one, but comes after it: after Ctrl-C no further plugin may start.
    const d = template(
      name,
      ECHO.replace('data "acme-echo" "who" {', 'data "acme-hang" "h" {').replaceAll("data.acme-echo.who", "data.acme-hang.h") +
        'data "acme-echo" "after" {\n  name = "late"\n}\nlocals { after = data.acme-echo.after.greeting }\n',
    );
    const proc = Bun.spawn([requireBinary(), "build", "-color=false", "."], { cwd: d, env: { ...process.env, ...env(), ...extra }, stdout: "pipe", stderr: "pipe" });
    const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    const t0 = performance.now();
    while (!log("hang").includes(mark) && performance.now() - t0 < 30_000) await Bun.sleep(50);
    expect(log("hang")).toContain(mark);
    const [pid] = pidsIn(log("hang"));
    expect(processAlive(pid!)).toBe(true);
    proc.kill("SIGINT");
    const t1 = performance.now();
    const code = await proc.exited;
    const [, stderr] = await output;
    expect(performance.now() - t1).toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(stderr).toContain("data.acme-hang.h");
    expect(stderr).toContain("cancelled: received SIGINT");
    expect(processAlive(pid!)).toBe(false);
    expect(log("echo")).toBe("");
  }

  test("Ctrl-C while a data source hangs in Execute: imgb stops, the plugin (which ignores SIGINT) is killed", async () => {
    await interruptAt("hang", "executing");
  }, 60_000);

  test("Ctrl-C while a data source plugin is still starting: it is killed too", async () => {
    await interruptAt("hang-start", "encoding", { IMGB_TEST_DS_SLOW_START: "1" });
  }, 60_000);
});
