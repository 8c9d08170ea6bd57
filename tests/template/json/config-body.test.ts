// JsonConfigBody.decode: rendering per build, late keys, schema checks with positions, weak typing,
// defaults, and {{build}} values before and during a build.
import { describe, expect, test } from "bun:test";
import type { ConfigSchema } from "../../../core/config/schema.ts";
import { loadJsonTemplateText } from "../../../core/template/json/loader.ts";
import type { BuildContextValues, Template } from "../../../core/template/model.ts";

const PATH = "/srv/templates/app.json";
function load(text: string): Template {
  return loadJsonTemplateText(PATH, text, { vars: [["who", "world"]], varFiles: [], env: {} });
}
const ctx = (t: Template, generated: BuildContextValues["generated"] = {}, placeholders = false): BuildContextValues => ({
  buildName: t.builds[0]!.name,
  sourceName: t.builds[0]!.sourceName,
  builderType: t.builds[0]!.builderType,
  generated,
  placeholders,
});

const SHELL: ConfigSchema = {
  fields: [
    { name: "inline", type: "list(string)" },
    { name: "execute_command", type: "string", late: true },
    { name: "expect_disconnect", type: "bool", default: false },
    { name: "start_retry_timeout", type: "string", default: "5m" },
    { name: "valid_exit_codes", type: "list(number)" },
    { name: "env", type: "map(string)" },
    { name: "count", type: "number" },
    { name: "script", type: "string", required: true },
  ],
};

function provisioner(config: Record<string, unknown>): string {
  return JSON.stringify({ variables: { who: null }, builders: [{ type: "null", name: "box" }], provisioners: [{ type: "shell", ...config }] }, null, 2);
}

describe("rendering", () => {
  test("strings render with user variables and build values; late keys stay raw", () => {
    const t = load(
      provisioner({
        script: "run-{{build_name}}-{{build_type}}.sh",
        inline: ["hello {{user `who`}}", "dir {{template_dir}}"],
        execute_command: "{{.Vars}} sudo -E sh '{{.Path}}'",
        env: { "KEY_{{upper `a`}}": "{{user `who`}}" },
      }),
    );
    const { value, diagnostics } = t.builds[0]!.provisioners[0]!.config.decode(ctx(t), SHELL);
    expect(diagnostics).toEqual([]);
    expect(value).toEqual({
      script: "run-box-null.sh",
      inline: ["hello world", "dir /srv/templates"],
      execute_command: "{{.Vars}} sudo -E sh '{{.Path}}'",
      env: { KEY_A: "world" },
      expect_disconnect: false,
      start_retry_timeout: "5m",
    });
  });

  test("without a schema every string renders and nothing is checked", () => {
    const t = load(provisioner({ anything: ["{{user `who`}}", 1, { n: null }] }));
    expect(t.builds[0]!.provisioners[0]!.config.decode(ctx(t))).toEqual({ value: { anything: ["world", 1, { n: null }] }, diagnostics: [] });
  });

  test("{{build}}: placeholders while validating, real values while building", () => {
    const t = load(provisioner({ script: "x", inline: ["ssh {{build `User`}}@{{build `Host`}}"] }));
    const body = t.builds[0]!.provisioners[0]!.config;
    expect(body.decode(ctx(t, {}, true), SHELL).value.inline).toEqual(["ssh {{.User}}@{{.Host}}"]);
    expect(body.decode(ctx(t, { User: "root", Host: "127.0.0.1" }), SHELL).value.inline).toEqual(["ssh root@127.0.0.1"]);
  });
});

describe("schema checks", () => {
  test("unknown key: Packer's message at the key's position", () => {
    const t = load(provisioner({ script: "x", bogus_key: 1, packer_build_name: "ignored" }));
    const { diagnostics } = t.builds[0]!.provisioners[0]!.config.decode(ctx(t), SHELL);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.summary).toBe(`unknown configuration key: '"bogus_key"'`);
    expect(diagnostics[0]!.range).toMatchObject({ filename: PATH, start: { line: 15, column: 7 } });
  });

  test("weak typing: strings to bools, numbers and lists; numbers to strings", () => {
    const t = load(provisioner({ script: 5, expect_disconnect: "true", count: "42", inline: "a,b", valid_exit_codes: ["0", 2] }));
    const { value, diagnostics } = t.builds[0]!.provisioners[0]!.config.decode(ctx(t), SHELL);
    expect(diagnostics).toEqual([]);
    expect(value).toMatchObject({ script: "5", expect_disconnect: true, count: 42, inline: ["a", "b"], valid_exit_codes: [0, 2] });
  });

  test("wrong types are errors at the value", () => {
    const t = load(provisioner({ script: ["a"], expect_disconnect: "maybe", count: "many", env: "x" }));
    const { diagnostics } = t.builds[0]!.provisioners[0]!.config.decode(ctx(t), SHELL);
    expect(diagnostics.map((d) => d.summary)).toEqual([
      "'script' expected type 'string', got unconvertible type '[]interface {}'",
      `cannot parse 'expect_disconnect' as bool: strconv.ParseBool: parsing "maybe": invalid syntax`,
      `cannot parse 'count' as number: "many" is not a number`,
      "'env' expected a map, got 'string'",
    ]);
    for (const d of diagnostics) expect(d.range?.start.line).toBeGreaterThan(1);
  });

  test("required keys are reported; defaults are filled", () => {
    const t = load(provisioner({ inline: ["x"] }));
    const { value, diagnostics } = t.builds[0]!.provisioners[0]!.config.decode(ctx(t), SHELL);
    expect(diagnostics.map((d) => d.summary)).toEqual(["required configuration key 'script' is not set"]);
    expect(value.start_retry_timeout).toBe("5m");
  });

  test("a bad template in a late key is still caught (syntax only), positioned inside the string", () => {
    const t = load(provisioner({ script: "x", execute_command: "{{.Vars}} {{ nope }}" }));
    const { diagnostics } = t.builds[0]!.provisioners[0]!.config.decode(ctx(t), SHELL);
    expect(diagnostics.map((d) => d.summary)).toEqual(['template: function "nope" not defined']);
    const line = provisioner({ script: "x", execute_command: "{{.Vars}} {{ nope }}" }).split("\n").findIndex((l) => l.includes("nope"));
    expect(diagnostics[0]!.range?.start.line).toBe(line + 1);
    expect(diagnostics[0]!.range?.start.column).toBe(40);
  });

  test("render errors point inside the string, through JSON escapes", () => {
    const t = load('{"builders": [{"type": "null", "x": "a\\tb {{ user }}"}]}');
    const { diagnostics } = t.builds[0]!.builder.decode(ctx(t));
    expect(diagnostics[0]!.summary).toBe("template: wrong number of args for user: want 1 got 0");
    expect(diagnostics[0]!.range?.start.column).toBe(46);
  });
});
