// Variable rules public templates depend on, each reproduced with a template of our own through the
// compiled binary; the pattern each comes from is named in its test.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";

// Each case runs whole builds; on a loaded machine that takes seconds.
setDefaultTimeout(30_000);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function templateDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "imgb-vars-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const echoBuild = (line: string) =>
  JSON.stringify({ builders: [{ type: "null", communicator: "none" }], provisioners: [{ type: "shell-local", inline: [`echo ${line}`] }] });

describe("JSON var files", () => {
  // awslabs/amazon-eks-ami's var files set optional inputs to null.
  test("null is the empty string: it overrides a default and satisfies a required variable (as Go decodes it)", async () => {
    const t = JSON.parse(echoBuild("R={{user `region`}} U=[{{user `user_data_file`}}] Q=[{{user `req`}}]"));
    t.variables = { region: "x", user_data_file: "default.sh", req: null };
    const dir = templateDir({ "t.json": JSON.stringify(t), "v.json": '{"region": "us-west-2", "user_data_file": null, "req": null}' });
    const r = await runImgb(["build", "-color=false", "-var-file=v.json", "t.json"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("R=us-west-2 U=[] Q=[]");
  });

  test("a number is still an error, with Go's text and the position", async () => {
    const dir = templateDir({ "t.json": echoBuild("x"), "v.json": '{"region": 3}' });
    const r = await runImgb(["validate", "-var-file=v.json", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("json: cannot unmarshal number into Go value of type string");
    expect(r.stderr).toContain("v.json:1:");
  });
});

describe("renderVarsRecursively", () => {
  // kubernetes-sigs/image-builder: var files refer to variables only some templates define.
  test("a variable referring to an undefined one is tolerated once another {{user}} reference resolves; it renders empty", async () => {
    const t = JSON.parse(echoBuild("A=[{{user `a`}}] C=[{{user `c`}}] D=[{{user `d`}}]"));
    t.variables = { a: "{{user `b`}}-x", b: "B", c: "{{user `undefined_in_this_template`}}", d: "{{user `c`}}" };
    const dir = templateDir({ "t.json": JSON.stringify(t) });
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("A=[B-x] C=[] D=[]");
    expect(r.stderr).toContain('Warning: Failed to interpolate "c"');
  });

  test("with no other {{user}} reference resolving, it is an error, as in Packer", async () => {
    const t = JSON.parse(echoBuild("C=[{{user `c`}}]"));
    t.variables = { b: "B", c: "{{user `undefined_in_this_template`}}" };
    const dir = templateDir({ "t.json": JSON.stringify(t) });
    const r = await runImgb(["validate", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('Error: Failed to interpolate "c"');
    expect(r.stderr).toContain("variable not set: undefined_in_this_template");
  });
});

describe("HCL2", () => {
  // chef/bento: `var.x != null ? substr(sha256(var.x), 0, 8) : "none"`.
  const hcl = `
variable "x" {
  type    = string
  default = null
}
locals { tag = var.x != null ? substr(sha256(var.x), 0, 8) : "none" }
source "null" "first" { communicator = "none" }
source "null" "second" { communicator = "none" }
build {
  sources = ["source.null.first", "source.null.second"]
  provisioner "shell-local" {
    inline = ["echo default \${local.tag}"]
    # Public templates key override by the source's name; imgb evaluates it per build.
    override = {
      (source.name) = { inline = ["echo override \${source.type} \${source.name} \${local.tag}"] }
    }
  }
}
`;

  test("the branch a conditional does not take reports nothing; override uses source.name and source.type per build", async () => {
    const dir = templateDir({ "t.pkr.hcl": hcl });
    const r = await runImgb(["build", "-color=false", "."], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("null.first: override null first none");
    expect(r.stdout).toContain("null.second: override null second none");
    const withX = await runImgb(["build", "-color=false", "-var", "x=abc", "."], { cwd: dir });
    expect(withX.stdout).toContain("null.first: override null first ba7816bf");
  });

  test("an override error is reported once, though override is evaluated for each build", async () => {
    const dir = templateDir({ "t.pkr.hcl": hcl.replace("(source.name) = {", "(source.name) = { bogus = var.nope,") });
    const r = await runImgb(["validate", "."], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split("Error: ").length - 1).toBe(1);
    expect(r.stderr).toContain(`This object does not have an attribute named "nope".`);
  });

  test("the branch taken still reports its error", async () => {
    const dir = templateDir({ "t.pkr.hcl": hcl.replace('var.x != null ? substr', 'var.x == null ? substr') });
    const r = await runImgb(["validate", "."], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Invalid function argument");
  });
});
