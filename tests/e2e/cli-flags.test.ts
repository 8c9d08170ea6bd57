// Unknown flags are errors on every verb, with Go's flag-package text (Packer's), exit 1 and
// nothing run; each verb's --help shows that verb's own flags, nested verbs included.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";

const dir = mkdtempSync(join(tmpdir(), "imgb-flags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("unknown flags", () => {
  test("build -var-flie is refused before anything runs (a mistyped -var-file must not build with defaults)", async () => {
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({ variables: { region: "us-east-1" }, builders: [{ type: "null", communicator: "none" }], provisioners: [{ type: "shell-local", inline: ["touch built"] }] }),
    );
    writeFileSync(join(dir, "prod.json"), JSON.stringify({ region: "eu-west-1" }));
    const r = await runImgb(["build", "-var-flie=prod.json", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe("flag provided but not defined: -var-flie");
    expect(r.stderr).toContain("imgb build");
    expect(r.stderr).not.toContain("\x1b["); // usage to a pipe or log: no colour codes
    expect(existsSync(join(dir, "built"))).toBe(false);
  });

  for (const argv of [
    ["validate", "-syntax-onyl", "t.json"],
    ["inspect", "--machine-redable", "t.json"],
    ["fmt", "-chek", "t.json"],
    ["hcl2_upgrade", "-with-anotations", "t.json"],
    ["init", "-upgarde", "t.json"],
    ["version", "-jsno"],
    ["plugins", "installed", "-templat-dir", "x"],
    ["registry", "serve", "-prot", "1", "x"],
    ["plugin", "new", "-bogus", "x"],
  ]) {
    test(`${argv.slice(0, -1).join(" ")}`, async () => {
      const flag = argv.find((a) => a.startsWith("-"))!.replace(/^-+/, "-");
      const r = await runImgb(argv, { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr.split("\n")[0]).toBe(`flag provided but not defined: ${flag}`);
    });
  }

  test("a string flag's separate value is not mistaken for a flag; -- ends flags", async () => {
    const r = await runImgb(["validate", "-var", "region=-x", "t.json"], { cwd: dir });
    expect(r.stderr).not.toContain("flag provided but not defined");
    expect(r.exitCode).toBe(0);
  });
});

describe("--help", () => {
  test("a nested verb shows its own flags, not its parent's list of verbs", async () => {
    const r = await runImgb(["plugins", "install", "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("imgb plugins install");
    expect(r.stdout).toContain("--allow-unsigned");
    expect(r.stdout).not.toContain("COMMANDS");
  });

  test("-help (Go style) on a verb shows that verb's flags", async () => {
    const r = await runImgb(["validate", "-help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("--syntax-only");
    expect(r.stdout).not.toContain("--parallel-builds");
  });
});
