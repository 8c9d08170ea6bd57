// The plugin author's path through the compiled binary alone: from an empty folder, with only
// dist/imgb on PATH (no npm, no repository, no node_modules above): plugin new, build, test, install
// the module unsigned, and use it in a template.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary } from "../support/binary.ts";

const base = mkdtempSync(join(tmpdir(), "imgb-author-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function sh(cwd: string, args: string[], env: Record<string, string>) {
  const p = Bun.spawn(["imgb", ...args], { cwd, env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

test("plugin new, build, test, install and use in a build, with nothing but the binary", async () => {
  const bin = join(base, "bin");
  mkdirSync(bin);
  copyFileSync(requireBinary(), join(bin, "imgb"));
  const work = join(base, "work");
  mkdirSync(work);
  // /usr/bin and /bin for the shell the local communicator runs; nothing else of this repository.
  const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: join(base, "home"), XDG_STATE_HOME: join(base, "state"), XDG_CACHE_HOME: join(base, "cache") };

  const created = await sh(work, ["plugin", "new", "acme/motd"], env);
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  const project = join(work, "motd");

  const built = await sh(project, ["plugin", "build"], env);
  expect(built.stderr).toBe("");
  expect(built.stdout).toMatch(/^Built .*\/motd\/dist\/motd\.wasm \(\d+ bytes\): provisioner acme\/motd 0\.1\.0, capabilities: communicator\n$/);

  const tested = await sh(project, ["plugin", "test"], env);
  expect(tested.code).toBe(0);
  expect(tested.stdout).toContain("ok   prepare rejects bad[0]: message must not be empty\n");
  expect(tested.stdout).toContain("        ran on the machine\n");
  expect(tested.stdout).toEndWith("All checks passed.\n");

  const installed = await sh(project, ["plugins", "install", "dist/motd.wasm", "--allow-unsigned", "--name", "acme/motd", "--version", "0.1.0", "--capabilities", "communicator", "--accept-capabilities"], env);
  expect(installed.stderr).toBe("");
  expect(installed.code).toBe(0);

  writeFileSync(
    join(work, "t.json"),
    JSON.stringify({ builders: [{ type: "null", communicator: "none" }], provisioners: [{ type: "acme/motd", message: "message of the day" }] }),
  );
  const b = await sh(work, ["build", "-color=false", "t.json"], env);
  expect(b.stderr).toBe("");
  expect(b.code).toBe(0);
  expect(b.stdout).toContain("==> null: message of the day (null)\n");
}, 180_000);
