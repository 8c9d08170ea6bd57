// loadJsonTemplate end to end on real files: the build layout (only/except/override, retries, chains),
// variables and their precedence, all errors reported together with positions, and load time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { DiagnosticsError, type Diagnostic } from "../../../core/errors/diagnostic.ts";
import { loadJsonTemplate } from "../../../core/template/json/loader.ts";
import type { BuildContextValues, LoadOptions, Template } from "../../../core/template/model.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "imgb-json-loader-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function file(content: unknown, name?: string): Promise<string> {
  const path = join(dir, name ?? `t${counter++}.json`);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}
const opts = (o: Partial<LoadOptions> = {}): LoadOptions => ({ vars: [], varFiles: [], env: {}, ...o });

async function load(content: unknown, o: Partial<LoadOptions> = {}): Promise<Template> {
  return loadJsonTemplate(await file(content), opts(o));
}
async function errors(content: unknown, o: Partial<LoadOptions> = {}): Promise<Diagnostic[]> {
  try {
    await load(content, o);
  } catch (e) {
    if (e instanceof DiagnosticsError) return e.diagnostics;
    throw e;
  }
  throw new Error("expected the template to be rejected");
}
const ctxOf = (t: Template, i: number, placeholders = true): BuildContextValues => ({
  buildName: t.builds[i]!.name,
  sourceName: t.builds[i]!.sourceName,
  builderType: t.builds[i]!.builderType,
  generated: {},
  placeholders,
});

describe("build layout", () => {
  const template = {
    description: "layout",
    variables: { retries: "2" },
    builders: [
      { type: "null", communicator: "none" },
      { type: "null", name: "second", communicator: "none" },
    ],
    provisioners: [
      { type: "shell-local", inline: ["echo all"], pause_before: "1m30s", timeout: "500ms" },
      { type: "shell-local", only: ["second"], inline: ["echo only second"], max_retries: 3 },
      { type: "shell-local", except: ["second"], inline: ["echo not second"], max_retries: "{{user `retries`}}" },
      { type: "shell-local", inline: ["base"], override: { second: { inline: ["overridden"] } } },
    ],
    "error-cleanup-provisioner": { type: "shell-local", inline: ["echo cleanup"] },
    "post-processors": [
      "manifest",
      [{ type: "compress", only: ["null"] }, { type: "checksum", name: "sums", keep_input_artifact: true }],
      { type: "shell-local", only: ["null"], inline: ["echo pp"] },
    ],
  };

  test("builds keep template order and names (name, else type)", async () => {
    const t = await load(template);
    expect(t.builds.map((b) => [b.name, b.builderType])).toEqual([
      ["null", "null"],
      ["second", "null"],
    ]);
    expect(t.format).toBe("json");
    expect(t.nameMatching).toBe("exact");
    expect(t.description).toBe("layout");
    expect(t.requiredPlugins).toEqual([]);
  });

  test("provisioners are filtered by only/except per build", async () => {
    const t = await load(template);
    const inline = (i: number) =>
      t.builds[i]!.provisioners.map((p) => p.config.decode(ctxOf(t, i)).value.inline);
    expect(inline(0)).toEqual([["echo all"], ["echo not second"], ["base"]]);
    expect(inline(1)).toEqual([["echo all"], ["echo only second"], ["base"]]);
  });

  test("pause_before, timeout and max_retries (number, string, template)", async () => {
    const t = await load(template);
    const [a, b] = t.builds;
    expect(a!.provisioners[0]).toMatchObject({ pauseBeforeMs: 90_000, timeoutMs: 500, maxRetries: 0 });
    expect(a!.provisioners[1]!.maxRetries).toBe(2);
    expect(b!.provisioners[1]!.maxRetries).toBe(3);
  });

  test("override is chosen for the build it names, and is partial", async () => {
    const t = await load(template);
    expect(t.builds[0]!.provisioners[2]!.override).toBeUndefined();
    const ov = t.builds[1]!.provisioners[2]!.override!;
    expect(ov.decode(ctxOf(t, 1), { fields: [{ name: "inline", type: "list(string)" }, { name: "x", type: "string", required: true, default: "d" }] })).toEqual({
      value: { inline: ["overridden"] },
      diagnostics: [],
    });
  });

  test("error-cleanup-provisioner is on every build", async () => {
    const t = await load(template);
    for (const b of t.builds) expect(b.errorCleanupProvisioner?.type).toBe("shell-local");
  });

  test("post-processor chains: strings, objects and sequences; filtered; empty chains dropped", async () => {
    const t = await load(template);
    const shape = (i: number) => t.builds[i]!.postProcessors.map((c) => c.map((p) => [p.type, p.name, p.keepInputArtifact]));
    expect(shape(0)).toEqual([
      [["manifest", "manifest", undefined]],
      [
        ["compress", "compress", undefined],
        ["checksum", "sums", true],
      ],
      [["shell-local", "shell-local", undefined]],
    ]);
    expect(shape(1)).toEqual([[["manifest", "manifest", undefined]], [["checksum", "sums", true]]]);
  });

  test("ranges point into the template file", async () => {
    const t = await load(template);
    expect(t.builds[1]!.range?.start.line).toBeGreaterThan(1);
    expect(t.builds[1]!.provisioners[0]!.range?.filename).toBe(t.path);
  });
});

describe("variables", () => {
  const template = {
    variables: {
      home: "{{env `TEST_HOME`}}",
      dir: "{{user `home`}}/out",
      region: "us-east-1",
      secret: "s3cr3t",
      empty: "",
    },
    "sensitive-variables": ["secret", "empty"],
    builders: [{ type: "null", out: "{{user `dir`}}-{{user `region`}}" }],
  };

  test("defaults use env and other variables; sensitive values are collected", async () => {
    const t = await load(template, { env: { TEST_HOME: "/home/t" } });
    expect(t.variables).toEqual({ home: "/home/t", dir: "/home/t/out", region: "us-east-1", secret: "s3cr3t", empty: "" });
    expect(t.sensitiveValues).toEqual(["s3cr3t"]);
    expect(t.builds[0]!.builder.decode(ctxOf(t, 0)).value).toEqual({ out: "/home/t/out-us-east-1" });
  });

  test("-var-file < -var, later wins, undeclared accepted, values may be templates", async () => {
    const f1 = await file({ region: "from-file-1", extra: "x" });
    const f2 = await file({ region: "from-file-2", secret: "{{user `region`}}!" });
    const t = await load(template, {
      varFiles: [f1, f2],
      vars: [
        ["home", "/first"],
        ["home", "/second"],
      ],
    });
    expect(t.variables).toMatchObject({ home: "/second", dir: "/second/out", region: "from-file-2", extra: "x", secret: "from-file-2!" });
    expect(t.sensitiveValues).toEqual(["from-file-2!"]);
  });

  test("a -var-file value that is not a string is an error at its position", async () => {
    const f = await file('{\n  "region": 5\n}');
    const d = await errors(template, { varFiles: [f] });
    expect(d).toHaveLength(1);
    expect(d[0]!.summary).toBe(`Error reading variables in '${f}': json: cannot unmarshal number into Go value of type string`);
    expect(d[0]!.range).toMatchObject({ filename: f, start: { line: 2, column: 13 } });
  });

  test("every missing required variable is named", async () => {
    const d = await errors({ variables: { a: null, b: null, c: "x" }, builders: [{ type: "null" }] });
    expect(d.map((x) => x.summary)).toEqual(["required variable not set: a", "required variable not set: b"]);
    expect(d[0]!.range?.start.line).toBe(3);
  });

  test("a reference to an undefined variable points at the user call", async () => {
    const d = await errors('{\n  "variables": {"a": "x-{{user `nope`}}"},\n  "builders": [{"type": "null"}]\n}');
    expect(d).toHaveLength(1);
    expect(d[0]!.summary).toBe('Failed to interpolate "a": error calling user: Error: variable not set: nope');
    expect(d[0]!.range?.start).toMatchObject({ line: 2, column: 27 });
  });

  test("cycles are reported once", async () => {
    const d = await errors({ variables: { a: "{{user `b`}}", b: "{{user `a`}}" }, builders: [{ type: "null" }] });
    expect(d).toHaveLength(1);
    expect(d[0]!.summary).toContain("refers to itself");
  });

  test("env outside the variables section is an error at decode time", async () => {
    const t = await load({ builders: [{ type: "null", x: "{{env `HOME`}}" }] });
    const { diagnostics } = t.builds[0]!.builder.decode(ctxOf(t, 0));
    expect(diagnostics.map((d) => d.summary)).toEqual(["template: error calling env: env vars are not allowed here"]);
  });
});

describe("errors", () => {
  test("all problems are reported together, each with a position", async () => {
    const d = await errors({
      min_packer_version: "99.0.0",
      bogus_top: true,
      _comment: "fine",
      push: { name: "ignored" },
      variables: { need: null },
      builders: [{ type: "null" }, { type: "null" }, { name: "x" }],
      provisioners: [{ type: "shell-local", only: ["nope"] }, { type: "shell-local", only: ["null"], except: ["null"] }, { inline: [] }],
      "post-processors": [[["nested"]], { type: "manifest", except: ["ghost"] }],
    });
    expect(d.filter((x) => x.severity === "warning").map((x) => x.summary)).toEqual(["'push' is no longer supported and is ignored"]);
    expect(d.filter((x) => x.severity === "error").map((x) => x.summary).sort()).toEqual(
      [
        "Unknown root level key in template: 'bogus_top'",
        "builder 2: builder with name 'null' already exists",
        "builder 3: missing 'type'",
        "provisioner 3: Provisioner missing 'type'",
        "post-processor 1.1: sequence not allowed to be nested in a sequence",
        "provisioner 1: 'only' specified builder 'nope' not found",
        "provisioner 2: only one of 'only' or 'except' may be specified",
        "post-processor 2.1: 'except' specified builder 'ghost' not found",
        "This template requires Packer version 99.0.0 or higher; using 1.9.5",
        "required variable not set: need",
      ].sort(),
    );
    for (const x of d) expect(x.range?.start.line).toBeGreaterThan(0);
  });

  test("a syntax error is Packer's message at the exact position", async () => {
    const path = await file('{\n  "builders": [\n    {"type": "null",}\n  ]\n}\n');
    try {
      await loadJsonTemplate(path, opts());
      throw new Error("expected a syntax error");
    } catch (e) {
      const d = (e as DiagnosticsError).diagnostics[0]!;
      expect(d.range).toMatchObject({ filename: path, start: { line: 3, column: 21 } });
      expect(d.detail).toStartWith("At line 3, column 22 (offset 39):\n");
    }
  });

  test("diagnostics name the file as given; Template.path is absolute", async () => {
    const abs = await file({ builders: [{ type: "null" }], bogus: 1 });
    const rel = relative(process.cwd(), abs);
    const e = await loadJsonTemplate(rel, opts()).catch((x: unknown) => x);
    expect((e as DiagnosticsError).diagnostics[0]!.range?.filename).toBe(rel);
    const ok = await file({ builders: [{ type: "null" }] });
    const t = await loadJsonTemplate(relative(process.cwd(), ok), opts());
    expect([t.path, t.dir]).toEqual([ok, dir]);
  });

  test("a missing file is a diagnostic, not a crash", async () => {
    await expect(loadJsonTemplate(join(dir, "absent.json"), opts())).rejects.toBeInstanceOf(DiagnosticsError);
  });

  test("syntax-only skips variables and validation", async () => {
    const t = await loadJsonTemplate(
      await file({ variables: { need: null }, builders: [{ type: "null", name: "{{user `need`}}" }], provisioners: [{ type: "x", only: ["ghost"] }] }),
      opts({ syntaxOnly: true }),
    );
    expect(t.builds).toHaveLength(1);
  });

  test("an unknown function in a builder name is reported with the builder", async () => {
    const d = await errors('{"builders": [{"type": "null", "name": "{{ nope }}"}]}');
    expect(d[0]!.summary).toBe("Error interpolating builder '{{ nope }}': template: function \"nope\" not defined");
    expect(d[0]!.range?.start.column).toBe(44);
  });
});

describe("performance", () => {
  test("3 builds x 30 provisioners: load and decode every config", async () => {
    const provisioners = Array.from({ length: 30 }, (_, i) => ({
      type: "shell",
      inline: [`echo step ${i} {{user \`greeting\`}} on {{build_name}}`, "uname -a"],
      environment_vars: [`STEP=${i}`, "NAME={{build_name}}"],
      execute_command: "{{.Vars}} sudo -E sh '{{.Path}}'",
      ...(i % 3 === 0 ? { only: ["a", "b"] } : {}),
    }));
    const path = await file({
      variables: { greeting: "hello", home: "{{env `HOME`}}" },
      builders: ["a", "b", "c"].map((name) => ({ type: "null", name, communicator: "none" })),
      provisioners,
      "post-processors": ["manifest"],
    });
    const schema = {
      fields: [
        { name: "inline", type: "list(string)" as const },
        { name: "environment_vars", type: "list(string)" as const },
        { name: "execute_command", type: "string" as const, late: true },
      ],
    };
    const run = async () => {
      const t = await loadJsonTemplate(path, opts({ env: { HOME: "/root" } }));
      let n = 0;
      t.builds.forEach((b, i) => {
        for (const p of b.provisioners) n += p.config.decode(ctxOf(t, i), schema).diagnostics.length;
      });
      return n;
    };
    // Speed is measured in bench/ against packer (validate 3x30); here only that every config decodes
    // cleanly, twice in a row (the second run takes the cached parse).
    expect(await run()).toBe(0);
    expect(await run()).toBe(0);
  });
});
