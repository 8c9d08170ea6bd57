// Packer core's legacy-JSON behaviour (corpus packer-fixtures/EXPECTATIONS/packer-core.json, from
// packer/core_test.go): build names, user variables ({{user}}, {{env}}, -var), builder config
// interpolation ({{build_name}}, {{template_dir}}, ...), validation and sensitive values.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DiagnosticsError } from "../../../core/errors/diagnostic.ts";
import { checkTemplate, referencedUserVariables } from "../../../core/template/gotemplate/render.ts";
import { loadJsonTemplate } from "../../../core/template/json/loader.ts";
import type { BuildContextValues, Template } from "../../../core/template/model.ts";
import { PACKER_COMPAT_VERSION } from "../../../core/version.ts";

const ROOT = "/work/shared/corpus/packer-fixtures";
const EXPECT = JSON.parse(readFileSync(join(ROOT, "EXPECTATIONS/packer-core.json"), "utf8")) as {
  dir: string;
  cases: Array<{
    test: string;
    file: string;
    env?: Record<string, string>;
    vars?: Record<string, string>;
    packerVersion?: string;
    expectError?: boolean;
    expectBuildNames?: string[];
    expectBuild?: string;
    expectBuildName?: string;
    expectBuilderConfig?: Record<string, string>;
    expectVariables?: Record<string, string>;
    expectLogFilter?: { in: string; out: string };
  }>;
  isDoneInterpolating: { cases: Array<{ in: string; done: boolean }> };
};
const DIR = join(ROOT, EXPECT.dir);

function buildCtx(t: Template, i = 0): BuildContextValues {
  const b = t.builds[i]!;
  return { buildName: b.name, sourceName: b.sourceName, builderType: b.builderType, generated: {}, placeholders: true };
}

/** Packer 1.9.5's Build.Name() for a JSON build: "<type>.<name>" when the name differs from the type. */
const packer195Name = (name: string, type: string) => (name === type ? name : `${type}.${name}`);

describe("packer core fixtures", () => {
  EXPECT.cases.forEach((c, idx) => {
    test(`${c.test} ${c.file} #${idx}`, async () => {
      const opts = { vars: Object.entries(c.vars ?? {}), varFiles: [], env: c.env ?? {} };
      let t: Template | undefined;
      let err: unknown;
      try {
        t = await loadJsonTemplate(join(DIR, c.file), opts, c.packerVersion ? { packerVersion: c.packerVersion } : {});
      } catch (e) {
        err = e;
      }
      if (c.expectError === true && c.file === "validate-min-version-high.json") {
        // Packer refuses a template for a newer Packer; imgb accepts it with a warning (PACKER-DIFFERENCES).
        expect(err).toBeUndefined();
        expect(t!.warnings.map((w) => w.summary)).toContain("Template asks for a newer Packer");
        return;
      }
      if (c.expectError === true) {
        expect(err).toBeInstanceOf(DiagnosticsError);
        return;
      }
      if (err) throw err;
      if (!t) throw new Error("no template");
      if (c.expectBuildNames) expect(t.builds.map((b) => b.name)).toEqual(c.expectBuildNames);
      if (c.expectBuild) expect(t.builds[0]!.name).toBe(c.expectBuild);
      if (c.expectBuildName) {
        const b = t.builds[0]!;
        expect(packer195Name(b.name, b.builderType)).toBe(c.expectBuildName);
      }
      if (c.expectBuilderConfig) {
        const { value, diagnostics } = t.builds[0]!.builder.decode(buildCtx(t));
        expect(diagnostics).toEqual([]);
        const want = { ...c.expectBuilderConfig };
        if (want.value === "<absolute path of packer/test-fixtures>") want.value = resolve(DIR);
        if (want.value === "<running Packer version string>") want.value = PACKER_COMPAT_VERSION;
        expect(value).toEqual(want);
      }
      if (c.expectVariables) expect(t.variables).toMatchObject(c.expectVariables);
      if (c.expectLogFilter) {
        let line = c.expectLogFilter.in;
        for (const s of t.sensitiveValues) line = line.replaceAll(s, "<sensitive>");
        expect(line).toBe(c.expectLogFilter.out);
      }
    });
  });
});

describe("isDoneInterpolating cases", () => {
  // Packer decides with a regex whether a variable still calls {{user}} (to retry it); imgb resolves
  // variables on demand instead, and its question is "which user variables does this text reference".
  // Texts Go cannot parse (`user` glued to its backtick, a missing brace) fail to render either way,
  // so for them the check is that they are rejected.
  for (const c of EXPECT.isDoneInterpolating.cases) {
    test(c.in, () => {
      const syntaxError = checkTemplate(c.in);
      if (syntaxError) {
        expect(syntaxError.message.length).toBeGreaterThan(0);
        return;
      }
      expect(referencedUserVariables(c.in).length === 0).toBe(c.done);
    });
  }
});

describe("other packer core fixtures (no transcribed expectation; checked against core_test.go's intent)", () => {
  const load = (f: string, o: { varFiles?: string[] } = {}) =>
    loadJsonTemplate(join(DIR, f), { vars: [], varFiles: (o.varFiles ?? []).map((v) => join(DIR, v)), env: {} });

  test("build-split-func.json: split renders in builder config", async () => {
    const t = await load("build-split-func.json");
    expect(t.builds[0]!.builder.decode(buildCtx(t)).value).toEqual({ value: "foo" });
  });
  test("build-prov-skip.json: only=[foo] keeps the provisioner on build foo only", async () => {
    const t = await load("build-prov-skip.json");
    expect(t.builds.map((b) => [b.name, b.provisioners.length])).toEqual([
      ["test", 0],
      ["foo", 1],
    ]);
  });
  test("build-prov-skip-include.json: only=[test] keeps it", async () => {
    const t = await load("build-prov-skip-include.json");
    expect(t.builds[0]!.provisioners).toHaveLength(1);
  });
  test("build-prov-override.json: the override for build 'test' is attached", async () => {
    const t = await load("build-prov-override.json");
    expect(t.builds[0]!.provisioners[0]!.override?.decode(buildCtx(t)).value).toEqual({ foo: "bar" });
  });
  test("build-prov-retry.json: max_retries as number and as string", async () => {
    const t = await load("build-prov-retry.json");
    expect(t.builds[0]!.provisioners.map((p) => [p.type, p.maxRetries])).toEqual([
      ["test-integer", 1],
      ["test-string", 1],
    ]);
  });
  test("build-pp.json: a bare string is a chain of one", async () => {
    const t = await load("build-pp.json");
    expect(t.builds[0]!.postProcessors.map((c) => c.map((p) => p.type))).toEqual([["test"]]);
  });
  test("push-vars.json: the legacy push section is accepted (with a warning)", async () => {
    const t = await loadJsonTemplate(join(DIR, "push-vars.json"), { vars: [["foo", "x"]], varFiles: [], env: {} });
    expect(t.warnings.map((w) => w.summary)).toEqual(["'push' is no longer supported and is ignored"]);
  });
  test("build-var-file-interpolate*.json: var-file values interpolate each other", async () => {
    const t = await load("build-basic-interpolated.json", { varFiles: ["build-var-file-interpolate.json", "build-var-file-interpolate2.json"] });
    expect(t.variables).toEqual({ name: "interpolate this, yall", my_var: "interpolate this, yall" });
  });
});
