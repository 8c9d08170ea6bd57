// The HCL2 loader's own rules, on small templates written for each rule.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiagnosticsError, type Diagnostic } from "../../../core/errors/diagnostic.ts";
import { loadHcl2Template, UNKNOWN_PLACEHOLDER } from "../../../core/template/hcl2/index.ts";
import type { BuildContextValues, BuildSpec, LoadOptions, Template } from "../../../core/template/model.ts";
import type { ConfigSchema } from "../../../core/config/schema.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "imgb-hcl2-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const NO_OPTS: LoadOptions = { vars: [], varFiles: [], env: {} };
const load = (files: Record<string, string>, opts: Partial<LoadOptions> = {}) => loadHcl2Template(folder(files), { ...NO_OPTS, ...opts });

async function errorsOf(files: Record<string, string>, opts: Partial<LoadOptions> = {}): Promise<Diagnostic[]> {
  try {
    await load(files, opts);
  } catch (e) {
    if (e instanceof DiagnosticsError) return e.diagnostics;
    throw e;
  }
  throw new Error("expected the template to fail");
}

function ctxOf(b: BuildSpec, placeholders = false, generated: BuildContextValues["generated"] = {}): BuildContextValues {
  return { buildName: b.name, sourceName: b.sourceName, builderType: b.builderType, generated, placeholders };
}

const NULL_SOURCE = `source "null" "a" {\n  communicator = "none"\n}\n`;
const names = (t: Template) => t.builds.map((b) => b.name);

describe("variables", () => {
  const decl = `variable "fruit" {\n  type = string\n  default = "apple"\n}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n`;

  test("precedence: default < env < auto var file < -var-file < -var", async () => {
    expect((await load({ "t.pkr.hcl": decl })).variables.fruit).toBe("apple");
    expect((await load({ "t.pkr.hcl": decl }, { env: { PKR_VAR_fruit: "env" } })).variables.fruit).toBe("env");
    expect((await load({ "t.pkr.hcl": decl }, { env: { IMGB_VAR_fruit: "imgb-env" } })).variables.fruit).toBe("imgb-env");
    const withAuto = { "t.pkr.hcl": decl, "x.auto.pkrvars.hcl": `fruit = "auto"\n` };
    expect((await load(withAuto, { env: { PKR_VAR_fruit: "env" } })).variables.fruit).toBe("auto");
    const dir = folder({ ...withAuto, "v.pkrvars.hcl": `fruit = "file"\n`, "v.json": `{"fruit": "json"}` });
    const opts = { ...NO_OPTS, varFiles: [join(dir, "v.pkrvars.hcl")] };
    expect((await loadHcl2Template(dir, opts)).variables.fruit).toBe("file");
    expect((await loadHcl2Template(dir, { ...opts, varFiles: [join(dir, "v.pkrvars.hcl"), join(dir, "v.json")] })).variables.fruit).toBe("json");
    expect((await loadHcl2Template(dir, { ...opts, vars: [["fruit", "a"], ["fruit", "cli"]] })).variables.fruit).toBe("cli");
  });

  test("string inputs are converted to the declared type", async () => {
    const t = await load({
      "t.pkr.hcl": `variable "n" {\n  type = number\n}\nvariable "l" {\n  type = list(string)\n}\nvariable "m" {\n  type = map(number)\n}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n`,
    }, { vars: [["n", "42"], ["l", `["a", "b"]`], ["m", "{x = 1}"]] });
    expect(t.variables).toEqual({ n: 42, l: ["a", "b"], m: { x: 1 } });
  });

  test("-var for an undeclared variable is an error; an undeclared PKR_VAR_ is ignored", async () => {
    const errs = await errorsOf({ "t.pkr.hcl": decl }, { vars: [["nope", "1"]] });
    expect(errs.map((d) => d.summary)).toEqual(["Undefined -var variable"]);
    expect((await load({ "t.pkr.hcl": decl }, { env: { PKR_VAR_nope: "1" } })).warnings).toEqual([]);
  });

  test("a value of the wrong type points at the var file", async () => {
    const dir = folder({ "t.pkr.hcl": `variable "n" {\n  type = number\n}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n`, "v.pkrvars.hcl": `\nn = "many"\n` });
    try {
      await loadHcl2Template(dir, { ...NO_OPTS, varFiles: [join(dir, "v.pkrvars.hcl")] });
      throw new Error("expected failure");
    } catch (e) {
      const d = (e as DiagnosticsError).diagnostics[0]!;
      expect(d.summary).toBe("Invalid value for variable");
      expect(d.range?.filename).toBe(join(dir, "v.pkrvars.hcl"));
      expect(d.range?.start.line).toBe(2);
    }
  });

  test("validation rules run on the final value and print the rule's message", async () => {
    const t = `variable "id" {\n  type = string\n  default = "ami-1234"\n  validation {\n    condition = var.id != "bad"\n    error_message = "The id must not be bad."\n  }\n}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n`;
    expect((await load({ "t.pkr.hcl": t })).variables.id).toBe("ami-1234");
    const errs = await errorsOf({ "t.pkr.hcl": t }, { vars: [["id", "bad"]] });
    expect(errs[0]!.summary).toBe("Invalid value for variable");
    expect(errs[0]!.detail).toStartWith("The id must not be bad.\n\nThis was checked by the validation rule at ");
  });

  test("an unset variable is an error at its declaration", async () => {
    const errs = await errorsOf({ "t.pkr.hcl": `\nvariable "x" {}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n` });
    expect(errs.map((d) => [d.summary, d.range?.start.line])).toEqual([['Unset variable "x"', 2]]);
  });

  test("sensitive variables and locals are listed for masking", async () => {
    const t = await load({
      "t.pkr.hcl": `variable "pw" {\n  default = "hunter2"\n  sensitive = true\n}\nlocal "tok" {\n  expression = "s3cret-${"$"}{var.pw}"\n  sensitive = true\n}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n`,
    });
    expect(t.sensitiveValues.sort()).toEqual(["hunter2", "s3cret-hunter2"]);
  });
});

describe("locals and data sources", () => {
  test("are evaluated in dependency order across files, whatever the order written", async () => {
    const t = await load({
      "a.pkr.hcl": `locals {\n  c = "${"$"}{local.b}-c"\n}\ndata "null" "d" {\n  input = local.a\n}\n`,
      "b.pkr.hcl": `locals {\n  b = "${"$"}{data.null.d.output}-b"\n  a = "a"\n}\nsource "null" "x" {\n  communicator = local.c\n}\nbuild {\n  sources = ["null.x"]\n}\n`,
    });
    const b = t.builds[0]!;
    expect(b.builder.decode(ctxOf(b), undefined).value).toEqual({ communicator: "a-b-c" });
  });

  test("a cycle is one error naming the cycle", async () => {
    const errs = await errorsOf({ "t.pkr.hcl": `locals {\n  a = local.b\n  b = local.a\n}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n` });
    expect(errs.map((d) => d.summary)).toEqual(["Cyclic dependency"]);
    expect(errs[0]!.detail).toContain("local.a -> local.b -> local.a");
  });
});

describe("builds", () => {
  test("names: TYPE.NAME, BUILD.TYPE.NAME, renamed inline sources; order is sources then source blocks", async () => {
    const t = await load({
      "t.pkr.hcl": `${NULL_SOURCE}source "null" "b" {\n  communicator = "none"\n}\nbuild {\n  source "source.null.a" {\n    name = "renamed"\n  }\n  sources = ["source.null.b"]\n}\nbuild {\n  name = "named"\n  sources = ["null.a", "sources.null.b"]\n}\n`,
    });
    expect(names(t)).toEqual(["null.b", "null.renamed", "named.null.a", "named.null.b"]);
    expect(t.builds.map((b) => b.sourceName)).toEqual(["b", "renamed", "a", "b"]);
    expect(t.nameMatching).toBe("glob");
  });

  test("inline source attributes override the source block's", async () => {
    const t = await load({
      "t.pkr.hcl": `source "file" "f" {\n  content = "base"\n  target = "a.txt"\n}\nbuild {\n  source "file.f" {\n    name = "g"\n    content = "override"\n  }\n}\n`,
    });
    const b = t.builds[0]!;
    expect(b.builder.decode(ctxOf(b), undefined).value).toEqual({ content: "override", target: "a.txt" });
  });

  test("provisioner only/except use TYPE.NAME of the (renamed) source; unknown names are errors", async () => {
    const src = `${NULL_SOURCE}source "null" "b" {\n  communicator = "none"\n}\n`;
    const t = await load({
      "t.pkr.hcl": `${src}build {\n  sources = ["null.a"]\n  source "null.b" {\n    name = "c"\n  }\n  provisioner "shell-local" {\n    only = ["null.c"]\n  }\n  provisioner "shell-local" {\n    except = ["null.c"]\n  }\n  post-processor "manifest" {\n    only = ["source.null.a"]\n  }\n}\n`,
    });
    expect(t.builds.map((b) => [b.name, b.provisioners.length, b.postProcessors.length])).toEqual([
      ["null.a", 1, 1],
      ["null.c", 1, 0],
    ]);
    const errs = await errorsOf({ "t.pkr.hcl": `${src}build {\n  sources = ["null.a"]\n  provisioner "shell-local" {\n    only = ["null.zz"]\n  }\n}\n` });
    expect(errs.map((d) => [d.summary, d.range?.start.line])).toEqual([["Unknown source in only/except", 9]]);
    // A source the template declares but this block does not use (sources chosen by a variable) is no mistake.
    const declared = await load({ "t.pkr.hcl": `${src}build {\n  sources = ["null.a"]\n  provisioner "shell-local" {\n    except = ["null.b"]\n  }\n}\n` });
    expect(declared.builds.map((b) => [b.name, b.provisioners.length])).toEqual([["null.a", 1]]);
  });

  test("per-provisioner keys, override by source name, chains and keep_input_artifact", async () => {
    const t = await load({
      "t.pkr.hcl": `${NULL_SOURCE}build {\n  sources = ["null.a"]\n  provisioner "shell-local" {\n    name = "p"\n    pause_before = "1m30s"\n    max_retries = "2"\n    timeout = "500ms"\n    inline = ["base"]\n    override = {\n      a = { inline = ["over"] }\n    }\n  }\n  error-cleanup-provisioner "shell-local" {\n    inline = ["cleanup"]\n  }\n  post-processor "manifest" {}\n  post-processors {\n    post-processor "compress" {\n      name = "c"\n      keep_input_artifact = true\n    }\n    post-processor "checksum" {}\n  }\n}\n`,
    });
    const b = t.builds[0]!;
    const p = b.provisioners[0]!;
    expect([p.name, p.pauseBeforeMs, p.maxRetries, p.timeoutMs]).toEqual(["p", 90000, 2, 500]);
    expect(p.config.decode(ctxOf(b)).value).toEqual({ inline: ["base"] });
    expect(p.override?.decode(ctxOf(b)).value).toEqual({ inline: ["over"] });
    expect(b.errorCleanupProvisioner?.config.decode(ctxOf(b)).value).toEqual({ inline: ["cleanup"] });
    expect(b.postProcessors.map((c) => c.map((pp) => [pp.type, pp.name, pp.keepInputArtifact]))).toEqual([
      [["manifest", undefined, undefined]],
      [
        ["compress", "c", true],
        ["checksum", undefined, undefined],
      ],
    ]);
  });

  test("a build without sources, and no build block at all, are errors", async () => {
    expect((await errorsOf({ "t.pkr.hcl": `build {}\n` })).map((d) => [d.summary, d.range?.start.line])).toEqual([["missing source reference", 1]]);
    expect((await errorsOf({ "t.pkr.hcl": NULL_SOURCE })).map((d) => d.summary)).toEqual(["Missing build block"]);
  });
});

describe("component bodies decode per build", () => {
  const schema: ConfigSchema = {
    fields: [
      { name: "inline", type: "list(string)", required: true },
      { name: "env", type: "map(string)" },
      { name: "retries", type: "number", default: 3 },
      { name: "execute_command", type: "string", late: true },
    ],
  };
  const tpl = (prov: string) => ({ "t.pkr.hcl": `${NULL_SOURCE}build {\n  name = "b"\n  sources = ["null.a"]\n  provisioner "shell-local" {\n${prov}  }\n}\n` });

  test("source.*, build.* and {{ }} functions are filled in; late keys are left alone; defaults fill in", async () => {
    const t = await load(tpl(`    inline = ["${"$"}{source.name} ${"$"}{source.type} ${"$"}{build.name} ${"$"}{build.Host}", "{{build_name}} {{build_type}}"]\n    execute_command = "{{.Vars}} {{.Path}}"\n`));
    const b = t.builds[0]!;
    const r = b.provisioners[0]!.config.decode(ctxOf(b, false, { Host: "10.0.0.1" }), schema);
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toEqual({ inline: ["a null b 10.0.0.1", "a null"], execute_command: "{{.Vars}} {{.Path}}", retries: 3 });
  });

  test("during validate, build.* is Packer's \"<unknown>\" placeholder", async () => {
    const t = await load(tpl(`    inline = [build.Host, "${"$"}{build.ID}-x"]\n`));
    const b = t.builds[0]!;
    const r = b.provisioners[0]!.config.decode(ctxOf(b, true, { Host: "{{ .Host }}" }), schema);
    expect(r.diagnostics).toEqual([]);
    expect(r.value.inline).toEqual([UNKNOWN_PLACEHOLDER, `${UNKNOWN_PLACEHOLDER}-x`]);
    expect(UNKNOWN_PLACEHOLDER).toBe("<unknown>");
  });

  test("a mistyped key is 'Unsupported argument' at its line and column; wrong types and missing keys too", async () => {
    const t = await load(tpl(`    inlin = ["x"]\n    env = "not a map"\n`));
    const b = t.builds[0]!;
    const r = b.provisioners[0]!.config.decode(ctxOf(b, true), schema);
    expect(r.diagnostics.map((d) => [d.summary, d.range?.start.line, d.range?.start.column])).toEqual([
      ["Unsupported argument", 8, 5],
      ["Incorrect attribute value type", 9, 5],
      ["Missing required argument", 7, 3],
    ]);
    expect(r.diagnostics[0]!.detail).toBe('An argument named "inlin" is not expected here. Did you mean "inline"?');
  });
});

describe("files", () => {
  test("a single file does not read the folder's auto var files; .pkr.json loads like .pkr.hcl", async () => {
    const dir = folder({
      "t.pkr.hcl": `variable "v" {\n  default = "d"\n}\n${NULL_SOURCE}build {\n  sources = ["null.a"]\n}\n`,
      "x.auto.pkrvars.hcl": `v = "auto"\n`,
    });
    expect((await loadHcl2Template(join(dir, "t.pkr.hcl"), NO_OPTS)).variables.v).toBe("d");
    expect((await loadHcl2Template(dir, NO_OPTS)).variables.v).toBe("auto");
    const j = await load({
      "t.pkr.json": JSON.stringify({ source: { null: { a: { communicator: "none" } } }, build: { sources: ["source.null.a"], provisioner: [{ "shell-local": { inline: ["hi"] } }] } }),
    });
    const b = j.builds[0]!;
    expect(names(j)).toEqual(["null.a"]);
    expect(b.provisioners[0]!.config.decode(ctxOf(b)).value).toEqual({ inline: ["hi"] });
  });

  test("an empty folder is an error", async () => {
    expect((await errorsOf({})).map((d) => d.summary)[0]).toStartWith("Could not find any config file in ");
  });
});
