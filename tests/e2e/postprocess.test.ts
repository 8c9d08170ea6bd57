// Post-processor chains through the compiled binary, with Packer's keep rules: an input artifact is
// deleted unless kept by the user (keep_input_artifact) or by the plugin; a plugin that forces keeping
// wins over the user's false; every surviving artifact is listed.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function build(postProcessors: unknown) {
  const dir = mkdtempSync(join(tmpdir(), "imgb-e2e-pp-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "t.json"),
    JSON.stringify({ builders: [{ type: "file", name: "f", target: "disk.img", content: "pretend disk\n" }], "post-processors": postProcessors }),
  );
  const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
  const artifacts = r.stdout.split("\n").filter((l) => l.startsWith("--> f: "));
  return { dir, r, artifacts };
}

describe("post-processor chains", () => {
  test("compress does not keep its input: the builder's file is deleted", async () => {
    const { dir, r, artifacts } = await build([{ type: "compress", output: "disk.tar.gz" }]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(existsSync(join(dir, "disk.tar.gz"))).toBe(true);
    expect(existsSync(join(dir, "disk.img"))).toBe(false);
    expect(artifacts).toHaveLength(1);
  });

  test("keep_input_artifact = true keeps it, and both artifacts are listed", async () => {
    const { dir, r, artifacts } = await build([{ type: "compress", output: "disk.tar.gz", keep_input_artifact: true }]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(existsSync(join(dir, "disk.img"))).toBe(true);
    expect(artifacts).toEqual(["--> f: Stored file: disk.img", expect.stringContaining("disk.tar.gz")]);
  });

  test("checksum forces keeping its input even when the user says false", async () => {
    const { dir, r } = await build([{ type: "checksum", checksum_types: ["sha256"], output: "disk.sha256", keep_input_artifact: false }]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(existsSync(join(dir, "disk.img"))).toBe(true);
    expect(readFileSync(join(dir, "disk.sha256"), "utf8")).toMatch(/^[0-9a-f]{64}\tdisk\.img\n$/);
  });

  test("a chain feeds each step the previous artifact; an intermediate not kept is deleted", async () => {
    const { dir, r } = await build([
      [
        { type: "compress", output: "disk.tar", keep_input_artifact: true },
        { type: "compress", output: "disk.tar.gz" },
      ],
    ]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(existsSync(join(dir, "disk.img"))).toBe(true);
    expect(existsSync(join(dir, "disk.tar"))).toBe(false);
    expect(existsSync(join(dir, "disk.tar.gz"))).toBe(true);
  });

  test("two chains each start from the builder's artifact", async () => {
    const { dir, r } = await build([
      { type: "checksum", checksum_types: ["md5"], output: "disk.md5" },
      { type: "compress", output: "disk.zip", keep_input_artifact: true },
    ]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(readFileSync(join(dir, "disk.md5"), "utf8")).toContain("\tdisk.img\n");
    expect(existsSync(join(dir, "disk.zip"))).toBe(true);
    expect(existsSync(join(dir, "disk.img"))).toBe(true);
  });

  test("a post-processor reading outside its artifact is refused, naming the plugin", async () => {
    const { r } = await build([{ type: "artifice", files: ["/etc/passwd"] }]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/artifice/);
    expect(r.stdout + r.stderr).toMatch(/\/etc\/passwd/);
  });
});

describe("user variables in keys plugins render themselves", () => {
  test("{{user}} works in checksum's output and shell-local's execute_command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "imgb-e2e-pp-"));
    dirs.push(dir);
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        variables: { name: "disk", greet: "hi there" },
        builders: [{ type: "file", target: "a.img", content: "x" }],
        provisioners: [
          { type: "shell-local", inline: ["echo $GREETING"], execute_command: ["/bin/sh", "-c", "GREETING='{{user `greet`}}' {{.Vars}} {{.Script}}"] },
        ],
        "post-processors": [{ type: "checksum", checksum_types: ["sha256"], output: "{{user `name`}}.sha256" }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("    file: hi there\n");
    expect(existsSync(join(dir, "disk.sha256"))).toBe(true);
  });
});
