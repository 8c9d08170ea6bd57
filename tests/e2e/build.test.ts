// `imgb build` end to end through the compiled binary: Packer's output, the per-provisioner keys,
// -on-error, the error-cleanup-provisioner, interrupts, and clear errors for bad templates.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary, runImgb } from "../support/binary.ts";
import { processAlive } from "../support/processes.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function templateDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "imgb-e2e-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const json = (v: unknown) => JSON.stringify(v, null, 2);
const nullBuild = { type: "null", communicator: "none" };

describe("build output", () => {
  test("Packer-style lines, then the artifact list", async () => {
    const dir = templateDir({
      "t.json": json({ builders: [nullBuild], provisioners: [{ type: "shell-local", inline: ["echo hello world"] }] }),
    });
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/==> null: Running local shell script: \S+/);
    expect(r.stdout).toContain("    null: hello world\n");
    expect(r.stdout).toMatch(/Build 'null' finished after .+\.\n/);
    expect(r.stdout).toMatch(/==> Wait completed after .+\n/);
    expect(r.stdout).toContain("==> Builds finished. The artifacts of successful builds are:\n--> null: Did not export anything. This is the null builder\n");
  });

  test("colours by default, one per build, announced first", async () => {
    const dir = templateDir({ "t.json": json({ builders: [{ ...nullBuild, name: "a" }, { ...nullBuild, name: "b" }] }) });
    const r = await runImgb(["build", "t.json"], { cwd: dir });
    expect(r.stdout).toContain("\x1b[1;32ma: output will be in this color.\x1b[0m\n");
    expect(r.stdout).toContain("\x1b[1;36mb: output will be in this color.\x1b[0m\n");
  });

  test("-machine-readable prints Packer's CSV records", async () => {
    const dir = templateDir({ "t.json": json({ builders: [nullBuild] }) });
    const r = await runImgb(["build", "-machine-readable", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\d+,null,artifact,0,builder-id,fnoeding\.null$/m);
    expect(r.stdout).toMatch(/^\d+,null,artifact,0,id,Null$/m);
    expect(r.stdout).toMatch(/^\d+,null,artifact-count,1$/m);
  });

  test("-json-events prints one JSON object per line", async () => {
    const dir = templateDir({ "t.json": json({ builders: [nullBuild], provisioners: [{ type: "shell-local", inline: ["echo hi"] }] }) });
    const r = await runImgb(["build", "-json-events", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; build?: string; message?: string });
    expect(events.some((e) => e.type === "message" && e.build === "null" && e.message === "hi")).toBe(true);
  });

  test("sensitive variables are masked in every line", async () => {
    const dir = templateDir({
      "t.json": json({
        variables: { password: "hunter2-secret" },
        "sensitive-variables": ["password"],
        builders: [nullBuild],
        provisioners: [{ type: "shell-local", inline: ["echo the password is {{user `password`}}"] }],
      }),
    });
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("the password is <sensitive>");
    expect(r.stdout).not.toContain("hunter2-secret");
  });
});

describe("per-provisioner keys", () => {
  test("pause_before, max_retries and timeout say what they do", async () => {
    const dir = templateDir({
      "t.json": json({
        builders: [nullBuild],
        provisioners: [
          { type: "shell-local", inline: ["echo paused"], pause_before: "1s" },
          { type: "shell-local", inline: ["exit 3"], max_retries: 2 },
        ],
      }),
    });
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("==> null: Pausing 1s before the next provisioner...");
    expect(r.stdout).toContain("retrying with 2 trie(s) left");
    expect(r.stdout).toContain("retrying with 1 trie(s) left");
    expect(r.stdout).toContain("Script exited with non-zero exit status: 3.Allowed exit codes are: [0]");
    expect(r.stdout).toContain("==> Builds finished but no artifacts were created.");
  });

  test("timeout cancels the provisioner and kills what it started", async () => {
    const dir = templateDir({
      "t.json": json({ builders: [nullBuild], provisioners: [{ type: "shell-local", inline: ["sleep 30 & echo $! > child.pid; wait"], timeout: "1s" }] }),
    });
    const t0 = performance.now();
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("==> null: Setting a 1s timeout for the next provisioner...");
    expect(r.stdout).toContain("==> null: Cancelling provisioner after a timeout...");
    const pid = Number(readFileSync(join(dir, "child.pid"), "utf8"));
    expect(processAlive(pid)).toBe(false);
  });
});

describe("-on-error and the error-cleanup-provisioner", () => {
  const failing = {
    builders: [nullBuild],
    provisioners: [{ type: "shell-local", inline: ["exit 1"] }, { type: "shell-local", inline: ["touch never.txt"] }],
    "error-cleanup-provisioner": { type: "shell-local", inline: ["touch cleanup-ran.txt"] },
    "post-processors": [{ type: "shell-local", inline: ["touch pp-ran.txt"] }],
  };

  test("cleanup (default): runs the cleanup provisioner, no further provisioners, no post-processors", async () => {
    const dir = templateDir({ "t.json": json(failing) });
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Provisioning step had errors: Running the cleanup provisioner, if present...");
    expect(existsSync(join(dir, "cleanup-ran.txt"))).toBe(true);
    expect(existsSync(join(dir, "never.txt"))).toBe(false);
    expect(existsSync(join(dir, "pp-ran.txt"))).toBe(false);
    expect(r.stdout).toMatch(/Build 'null' errored after .+: Script exited with non-zero exit status: 1/);
  });

  test("abort: no cleanup provisioner, step cleanups skipped and said", async () => {
    const dir = templateDir({ "t.json": json(failing) });
    const r = await runImgb(["build", "-color=false", "-on-error=abort", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(existsSync(join(dir, "cleanup-ran.txt"))).toBe(false);
    expect(r.stdout).toContain('Step "StepProvision" failed, aborting...');
    expect(r.stdout).toContain('aborted: skipping cleanup of step "StepConnect"');
  });

  test("run-cleanup-provisioner: cleanup provisioner, then abort", async () => {
    const dir = templateDir({ "t.json": json(failing) });
    const r = await runImgb(["build", "-color=false", "-on-error=run-cleanup-provisioner", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(existsSync(join(dir, "cleanup-ran.txt"))).toBe(true);
    expect(r.stdout).toContain('Step "StepProvision" failed, aborting...');
  });

  test("ask without a terminal behaves like cleanup", async () => {
    const dir = templateDir({ "t.json": json(failing) });
    const r = await runImgb(["build", "-color=false", "-on-error=ask", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(existsSync(join(dir, "cleanup-ran.txt"))).toBe(true);
  });
});

describe("bad input", () => {
  test("a JSON syntax error gives file:line:column, exit 1, no stack trace", async () => {
    const dir = templateDir({ "bad.json": '{\n  "builders": [\n    {"type": "null", "communicator": "none",}\n  ]\n}\n' });
    const r = await runImgb(["build", "bad.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/bad\.json:3:4\d/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  test("an unknown provisioner is named, with its position, before anything runs", async () => {
    const dir = templateDir({
      "t.json": json({ builders: [nullBuild], provisioners: [{ type: "shell-local", inline: ["touch ran.txt"] }, { type: "nope" }] }),
    });
    const r = await runImgb(["build", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Unknown provisioner nope");
    expect(r.stderr).toMatch(/t\.json:\d+:\d+/);
    expect(existsSync(join(dir, "ran.txt"))).toBe(false);
  });

  test("a missing template file is a clear error", async () => {
    const r = await runImgb(["build", "/nonexistent/t.json"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("/nonexistent/t.json");
    expect(r.stderr).not.toContain("    at ");
  });

  test("unknown command exits 127", async () => {
    const r = await runImgb(["frobnicate"]);
    expect(r.exitCode).toBe(127);
  });
});

describe("interrupts", () => {
  test("Ctrl-C cancels the build, runs cleanup, leaves nothing running, exits 1", async () => {
    const dir = templateDir({
      "t.json": json({
        builders: [nullBuild],
        provisioners: [{ type: "shell-local", inline: ["sleep 30 & echo $! > child.pid; touch started; wait"] }],
      }),
    });
    const proc = Bun.spawn([requireBinary(), "build", "-color=false", "t.json"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const started = join(dir, "started");
    for (let i = 0; i < 200 && !existsSync(started); i++) await Bun.sleep(50);
    expect(existsSync(started)).toBe(true);
    proc.kill("SIGINT");
    const t0 = performance.now();
    const exitCode = await proc.exited;
    const stdout = await new Response(proc.stdout).text();
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(exitCode).toBe(1);
    expect(stdout).toContain("Cancelling build after receiving interrupt");
    expect(stdout).toContain("Cleanly cancelled builds after being interrupted.");
    const pid = Number(readFileSync(join(dir, "child.pid"), "utf8"));
    await Bun.sleep(100);
    expect(processAlive(pid)).toBe(false);
    expect(sandboxesOf(proc.pid)).toEqual([]);
  });
});

/** Sandbox processes still running that the given imgb started. */
function sandboxesOf(parentPid: number): number[] {
  const out = Bun.spawnSync(["pgrep", "-P", String(parentPid)]).stdout.toString().trim();
  return out ? out.split("\n").map(Number).filter(processAlive) : [];
}
