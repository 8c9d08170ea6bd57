// The legacy JSON cases of Packer's command tests (corpus EXPECTATIONS/command-validate.json and
// command-build.json), checked at the template level: what the loader decides (errors, variables,
// build layout, rendered component configs). Running builders/plugins is the engine's test.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DiagnosticsError } from "../../../core/errors/diagnostic.ts";
import type { ConfigSchema } from "../../../core/config/schema.ts";
import { loadJsonTemplate, type JsonLoaderOverrides } from "../../../core/template/json/loader.ts";
import type { BuildContextValues, LoadOptions, Template } from "../../../core/template/model.ts";

const CMD = "/work/shared/corpus/packer-fixtures/command";
const opts = (o: Partial<LoadOptions> = {}): LoadOptions => ({ vars: [], varFiles: [], env: {}, ...o });
const load = (rel: string, o: Partial<LoadOptions> = {}, ov: JsonLoaderOverrides = {}) =>
  loadJsonTemplate(join(CMD, rel), opts({ ...o, varFiles: (o.varFiles ?? []).map((f) => join(CMD, f)) }), ov);
async function summaries(p: Promise<Template>): Promise<string[]> {
  try {
    await p;
    return [];
  } catch (e) {
    if (e instanceof DiagnosticsError) return e.diagnostics.filter((d) => d.severity === "error").map((d) => d.summary);
    throw e;
  }
}
const ctx = (t: Template, i: number, generated: BuildContextValues["generated"] = {}): BuildContextValues => ({
  buildName: t.builds[i]!.name,
  sourceName: t.builds[i]!.sourceName,
  builderType: t.builds[i]!.builderType,
  generated,
  placeholders: false,
});
const inlineOf = (body: { decode: (c: BuildContextValues) => { value: Record<string, unknown> } }, c: BuildContextValues) => body.decode(c).value.inline;

describe("command-validate (JSON)", () => {
  test("validate/build.json is valid", async () => {
    expect(await summaries(load("test-fixtures/validate/build.json"))).toEqual([]);
  });
  test("validate/null_var.json: a required variable without a value fails", async () => {
    expect(await summaries(load("test-fixtures/validate/null_var.json"))).toEqual(["required variable not set: null_var"]);
  });
  test("validate-invalid/bad_provisioner.json: the unknown key is found by the provisioner's schema", async () => {
    // The schema belongs to the file provisioner plugin; a minimal stand-in with its documented keys.
    const fileSchema: ConfigSchema = {
      fields: ["source", "sources", "destination", "direction", "generated"].map((name) => ({ name, type: "any" as const })),
    };
    const t = await load("test-fixtures/validate-invalid/bad_provisioner.json");
    const { diagnostics } = t.builds[0]!.provisioners[0]!.config.decode(ctx(t, 0), fileSchema);
    expect(diagnostics.map((d) => [d.summary, d.range?.start.line])).toEqual([[`unknown configuration key: '"comment"'`, 12]]);
  });
  describe("-syntax-only", () => {
    const syntax = (f: string) => summaries(load(f, { syntaxOnly: true }, { packerVersion: "102.0.0" }));
    test("build.json", async () => expect(await syntax("test-fixtures/validate/build.json")).toEqual([]));
    test("bad_provisioner.json", async () => expect(await syntax("test-fixtures/validate-invalid/bad_provisioner.json")).toEqual([]));
    test("null_var.json", async () => expect(await syntax("test-fixtures/validate/null_var.json")).toEqual([]));
    test("broken.json", async () =>
      expect(await syntax("test-fixtures/validate-invalid/broken.json")).toEqual(["'provisioners': source data must be an array or slice, got string"]));
  });
  test("min_packer_version 101.0.0 with 102.0.0 and with 100.0.0: accepted, with a warning (Packer refuses)", async () => {
    expect(await summaries(load("test-fixtures/validate/template.json", {}, { packerVersion: "102.0.0" }))).toEqual([]);
    const t = await load("test-fixtures/validate/template.json", {}, { packerVersion: "100.0.0" });
    expect(t.warnings.map((w) => [w.summary, w.detail?.split(" is not met")[0]])).toEqual([["Template asks for a newer Packer", 'min_packer_version "101.0.0"']]);
  });
  test("validate_except.json: build and post-processor names that -except can name", async () => {
    const t = await load("test-fixtures/validate/validate_except.json", {}, { packerVersion: "102.0.0" });
    expect(t.builds.map((b) => b.name)).toEqual(["chocolate", "vanilla"]);
    expect(t.builds[0]!.postProcessors.map((c) => c.map((p) => p.name))).toEqual([["apple"], ["pear", "banana"]]);
  });
});

describe("command-build (JSON), template level", () => {
  test("var-arg: -var-file sets fruit; -var wins over -var-file whatever the order", async () => {
    const file = await load("test-fixtures/var-arg/fruit_builder.json", { varFiles: ["test-fixtures/var-arg/apple.json"] });
    expect(inlineOf(file.builds[0]!.postProcessors[0]![0]!.config, ctx(file, 0))).toEqual(["echo apple > apple.txt"]);
    const both = await load("test-fixtures/var-arg/fruit_builder.json", {
      vars: [["fruit", "banana"]],
      varFiles: ["test-fixtures/var-arg/apple.json"],
    });
    expect(inlineOf(both.builds[0]!.postProcessors[0]![0]!.config, ctx(both, 0))).toEqual(["echo banana > banana.txt"]);
    const arg = await load("test-fixtures/var-arg/fruit_builder.json", { vars: [["fruit", "pear"]] });
    expect(arg.variables).toEqual({ fruit: "pear" });
  });
  test("var-arg: a missing -var-file is an error", async () => {
    const s = await summaries(load("test-fixtures/var-arg/fruit_builder.json", { varFiles: ["test-fixtures/var-arg/potato.json"] }));
    expect(s[0]).toStartWith("Error reading variables in '");
    expect(s[0]).toContain("no such file or directory");
  });
  test("build-only/template.json: chains per build (only filters, empty chains dropped, unnamed = type)", async () => {
    const t = await load("test-fixtures/build-only/template.json");
    const chains = t.builds.map((b) => [b.name, b.postProcessors.map((c) => c.map((p) => p.name))]);
    expect(chains).toEqual([
      ["chocolate", [["apple", "peach"], ["pear", "banana"], ["shell-local"]]],
      ["vanilla", [["apple", "peach"], ["pear", "banana"], ["tomato"]]],
      ["cherry", [["apple", "peach"], ["pear", "banana"]]],
    ]);
  });
  test("build-only/not-found.json: an unknown builder type loads (the engine rejects it)", async () => {
    const t = await load("test-fixtures/build-only/not-found.json");
    expect(t.builds.map((b) => b.builderType)).toEqual(["file", "non-existing"]);
  });
  test("provisioner-override.json: example1 gets the override, example2 does not", async () => {
    const t = await load("test-fixtures/provisioners/provisioner-override.json");
    expect(t.builds[0]!.provisioners[0]!.override && inlineOf(t.builds[0]!.provisioners[0]!.override, ctx(t, 0))).toEqual(["echo yes overridden"]);
    expect(t.builds[1]!.provisioners[0]!.override).toBeUndefined();
    expect(inlineOf(t.builds[1]!.provisioners[0]!.config, ctx(t, 1))).toEqual(["echo not overridden"]);
  });
  test("provisioner-only-except.json: only/except by build name, build_name/build_type rendered", async () => {
    const t = await load("test-fixtures/provisioners/provisioner-only-except.json");
    const lines = (i: number) => [
      ...t.builds[i]!.provisioners.map((p) => inlineOf(p.config, ctx(t, i))),
      ...t.builds[i]!.postProcessors.flat().map((p) => inlineOf(p.config, ctx(t, i))),
    ];
    expect(lines(0)).toEqual([["echo null provisioner null and null"], ["echo null post-processor null and null"]]);
    expect(lines(1)).toEqual([["echo packer provisioner packer and null"], ["echo packer post-processor packer and null"]]);
  });
  test("build-variable-sharing: {{build `ID`}} in provisioners and post-processors", async () => {
    const t = await load("test-fixtures/build-variable-sharing/template.json");
    const running = ctx(t, 0, { ID: "Null" });
    expect(inlineOf(t.builds[0]!.provisioners[0]!.config, running)).toEqual(["echo hi > provisioner.Null.txt"]);
    expect(inlineOf(t.builds[0]!.postProcessors[0]![0]!.config, running)).toEqual(["echo hi > post-processor.Null.txt"]);
  });
  test("build-name-and-type/all.json: named builds", async () => {
    const t = await load("test-fixtures/build-name-and-type/all.json");
    expect(t.builds.map((b) => [b.name, b.builderType])).toEqual([
      ["test", "null"],
      ["potato", "null"],
    ]);
  });
});
