// The Go text/template engine as Packer uses it: syntax, pipelines, control flow, every Packer
// function, and errors that say what and where.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { DiagnosticsError } from "../../../core/errors/diagnostic.ts";
import {
  cleanResourceName,
  goReplace,
  referencedUserVariables,
  renderTemplate,
  timeOrderedUuid,
  type TemplateContext,
} from "../../../core/template/gotemplate/index.ts";
import { PACKER_COMPAT_VERSION } from "../../../core/version.ts";

const NOW = new Date(Date.UTC(2014, 5, 7, 19, 22, 43, 786));
const CTX: TemplateContext = {
  userVariables: { foo: "bar", region: "us-east-1", csv: "a,b,c" },
  buildName: "foo-bar-provider",
  buildType: "null",
  templatePath: "/srv/tpl/template.json",
  now: NOW,
  cwd: "/work/dir",
};
const r = (text: string, data: Record<string, never> | Record<string, unknown> = {}, ctx: TemplateContext = CTX) =>
  renderTemplate(text, data as never, ctx);

function errorOf(fn: () => unknown): { summary: string; line: number; column: number } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DiagnosticsError)) throw e;
    const d = e.diagnostics[0]!;
    return { summary: d.summary, line: d.range?.start.line ?? 0, column: d.range?.start.column ?? 0 };
  }
  throw new Error("expected an error");
}

describe("syntax", () => {
  test("text without actions is returned as is", () => {
    expect(r("plain { text } here")).toBe("plain { text } here");
  });
  test("raw, quoted and escaped strings", () => {
    expect(r("{{`a\\nb`}}")).toBe("a\\nb");
    expect(r('{{"a\\tb\\u00e9\\x41"}}')).toBe("a\tbéA");
  });
  test("numbers, bools and characters print like Go", () => {
    expect(r("{{ 42 }} {{ 1.5 }} {{ 0x1F }} {{ true }} {{ 'a' }}")).toBe("42 1.5 31 true 97");
  });
  test("comments produce nothing", () => {
    expect(r("a{{/* note */}}b{{- /* trimmed */ -}} c")).toBe("abc");
  });
  test("trim markers remove surrounding whitespace", () => {
    expect(r("x \n {{- `y` -}} \n z")).toBe("xyz");
    expect(r("{{-3}}")).toBe("-3");
  });
  test("dot values, nested fields and missing keys", () => {
    expect(r("{{.Path}} {{ .Vars }}", { Path: "/tmp/script.sh", Vars: "A='1' " })).toBe("/tmp/script.sh A='1' ");
    expect(r("{{.A.B}}", { A: { B: "deep" } })).toBe("deep");
    expect(r("{{.Missing}}")).toBe("<no value>");
    expect(r("{{.}}", { b: 2, a: [1, "x"] })).toBe("map[a:[1 x] b:2]");
  });
  test("pipes pass the value as the last argument", () => {
    expect(r("{{ user `foo` | upper }}")).toBe("BAR");
    expect(r("{{ build_name | replace `-` `/` 1 }}")).toBe("foo/bar-provider");
    expect(r("{{ upper (user `foo`) | lower }}")).toBe("bar");
  });
  test("if / else if / else, with, range, variables", () => {
    expect(r("{{if eq (user `foo`) `bar`}}yes{{else}}no{{end}}")).toBe("yes");
    expect(r("{{if .X}}x{{else if .Y}}y{{else}}z{{end}}", { Y: 1 })).toBe("y");
    expect(r("{{with .A}}{{.B}}{{else}}none{{end}}", { A: { B: "in" } })).toBe("in");
    expect(r("{{range $i, $e := .L}}{{$i}}={{$e}};{{else}}empty{{end}}", { L: ["a", "b"] })).toBe("0=a;1=b;");
    expect(r("{{range .L}}x{{else}}empty{{end}}", { L: [] })).toBe("empty");
    expect(r("{{range .M}}{{.}}{{end}}", { M: { b: 2, a: 1 } })).toBe("12");
    expect(r("{{$x := `v`}}{{$x}}{{$x = `w`}}{{$x}}")).toBe("vw");
    expect(r("{{range .L}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}", { L: [1, 2, 3] })).toBe("1");
  });
  test("builtins: and/or, not, len, index, print, printf", () => {
    expect(r("{{and 1 0}} {{or 0 `x`}} {{not true}} {{len `héllo`}} {{index .L 1}} {{index .M `k`}}", { L: ["a", "b"], M: { k: "v" } })).toBe(
      "0 x false 6 b v",
    );
    expect(r('{{print "a" 1 2 "b"}} {{printf "%s-%d-%05.1f-%q" "x" 7 3.14159 "y"}}')).toBe('a1 2b x-7-003.1-"y"');
  });
});

describe("Packer functions", () => {
  test("user: value, and empty for an unknown variable outside the variables section", () => {
    expect(r("{{user `region`}}/{{user `nope`}}|")).toBe("us-east-1/|");
  });
  test("user: unknown variable is an error where env is enabled (the variables section)", () => {
    const e = errorOf(() => r("{{user `nope`}}", {}, { ...CTX, enableEnv: true }));
    expect(e.summary).toBe("template: error calling user: Error: variable not set: nope");
  });
  test("env only where enabled", () => {
    expect(r("{{env `HOME_X`}}", {}, { enableEnv: true, env: { HOME_X: "/home/x" } })).toBe("/home/x");
    expect(r("[{{env `UNSET_X`}}]", {}, { enableEnv: true, env: {} })).toBe("[]");
    const e = errorOf(() => r("prefix {{env `HOME`}}"));
    expect(e.summary).toBe("template: error calling env: env vars are not allowed here");
    expect(e.column).toBe(10);
  });
  test("build_name, build_type, template_dir, pwd, packer_version", () => {
    expect(r("{{build_name}} {{build_type}} {{template_dir}} {{pwd}} {{packer_version}}")).toBe(
      `foo-bar-provider null ${resolve("/srv/tpl")} /work/dir ${PACKER_COMPAT_VERSION}`,
    );
    expect(errorOf(() => r("{{build_name}}", {}, {})).summary).toBe("template: error calling build_name: build_name not available");
    expect(errorOf(() => r("{{template_dir}}", {}, {})).summary).toBe("template: error calling template_dir: template path not available");
  });
  test("timestamp and isotime use the frozen run time", () => {
    expect(r("{{timestamp}}")).toBe(String(Math.floor(NOW.getTime() / 1000)));
    expect(r("{{isotime}}")).toBe("2014-06-07T19:22:43Z");
    expect(r("{{isotime `2006-01-02`}}")).toBe("2014-06-07");
    expect(r("{{isotime `Mon 1504`}}")).toBe("Sat 1922");
    expect(r("{{isotime `Hour15Year200603`}}")).toBe("Hour19Year201407");
    expect(r("{{isotime `Jan-_2-15:04:05.000`}}")).toBe("Jun- 7-19:22:43.786");
    expect(r("{{isotime `3:04PM`}}")).toBe("7:22PM");
    expect(errorOf(() => r("{{isotime `a` `b`}}")).summary).toBe("template: error calling isotime: too many values, 1 needed: [a b]");
  });
  test("strftime", () => {
    expect(r("{{strftime `%Y-%m-%d %H:%M:%S %a %b`}}")).toBe("2014-06-07 19:22:43 Sat Jun");
  });
  test("uuid has Packer's time-ordered shape", () => {
    const u = r("{{uuid}}");
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const at = new Date(Date.UTC(2020, 0, 1));
    expect(timeOrderedUuid(at).slice(0, 8)).toBe((at.getTime() / 1000).toString(16).padStart(8, "0"));
    expect(timeOrderedUuid(at)).not.toBe(timeOrderedUuid(at));
  });
  test("split", () => {
    expect(r('{{split "foo-bar" "-" 0}}|{{split build_name "-" 2}}')).toBe("foo|provider");
    expect(errorOf(() => r('{{split "a-b" "-" 5}}')).summary).toBe(
      "template: error calling split: the substring 5 was unavailable using the separator value, -, only 2 values were found",
    );
  });
  test("replace (old new n s) and replace_all (old new s)", () => {
    expect(r('{{ replace_all "-" "/" build_name }}')).toBe("foo/bar/provider");
    expect(r('{{ replace "-" "/" -1 build_name }}')).toBe("foo/bar/provider");
    expect(goReplace("abc", "", "-", 2)).toBe("-a-bc");
    expect(goReplace("aaaa", "a", "b", 3)).toBe("bbba");
  });
  test("upper, lower, clean_resource_name", () => {
    expect(r("{{upper `aB`}}{{lower `Cd`}}")).toBe("ABcd");
    expect(r("mybuild-{{isotime | clean_resource_name}}")).toBe("mybuild-2014-06-07t19-22-43z");
    expect(cleanResourceName("My_Image:1.0")).toBe("my-image-1-0");
  });
  test("build: generated values, placeholders during validate, errors otherwise", () => {
    const build = { generated: { Host: "10.0.0.5", Port: 22 }, placeholders: false };
    expect(r("{{build `Host`}}:{{build `Port`}}", {}, { ...CTX, build })).toBe("10.0.0.5:22");
    expect(r("{{ build `Host` }}", {}, { ...CTX, build: { ...build, placeholders: true } })).toBe("{{.Host}}");
    expect(errorOf(() => r("{{build `Nope`}}", {}, { ...CTX, build })).summary).toBe(
      "template: error calling build: loaded data, but couldnt find Nope in it.",
    );
  });
  test("sed is rejected as deprecated", () => {
    expect(errorOf(() => r("{{sed `s/a/b/` `a`}}")).summary).toContain("`sed` is deprecated");
  });
  test("works with dot data only and no context (plugin late keys)", () => {
    expect(renderTemplate("chmod +x {{.Path}}; {{.Vars}} {{.Path}}", { Path: "/tmp/s.sh", Vars: "A='b'" })).toBe(
      "chmod +x /tmp/s.sh; A='b' /tmp/s.sh",
    );
    expect(errorOf(() => renderTemplate("{{user `x`}}", {})).summary).toBe(
      "template: error calling user: user variables are not available here",
    );
  });
  test("referencedUserVariables finds constant user arguments", () => {
    expect(referencedUserVariables("{{user `a`}}-{{ upper (user `b`) }}{{if .X}}{{user `c`}}{{end}}")).toEqual(["a", "b", "c"]);
  });
});

describe("errors name the problem and its position", () => {
  test("unknown function", () => {
    const e = errorOf(() => r("line one\n  {{ nope `x` }}"));
    expect(e).toEqual({ summary: 'template: function "nope" not defined', line: 2, column: 6 });
  });
  test("wrong number and type of arguments", () => {
    expect(errorOf(() => r("{{user}}")).summary).toBe("template: wrong number of args for user: want 1 got 0");
    expect(errorOf(() => r("{{upper 1}}")).summary).toBe("template: wrong type for value; expected string; got int");
    expect(errorOf(() => r('{{split "a" "-" "0"}}')).summary).toBe("template: wrong type for value; expected int; got string");
  });
  test("lexer errors", () => {
    expect(errorOf(() => r("abc {{ user `x` ")).summary).toBe("template: unclosed action");
    expect(errorOf(() => r("{{ `open ")).summary).toBe("template: unterminated raw quoted string");
    expect(errorOf(() => r('{{ "open }}')).summary).toBe("template: unterminated quoted string");
    expect(errorOf(() => r("{{ user`x` }}")).summary).toBe("template: bad character U+0060 '`'");
    expect(errorOf(() => r("{{ # }}")).summary).toBe("template: unrecognized character in action: U+0023 '#'");
  });
  test("parser errors", () => {
    expect(errorOf(() => r("{{end}}")).summary).toBe("template: unexpected {{end}}");
    expect(errorOf(() => r("{{if 1}}x")).summary).toBe("template: unexpected EOF");
    expect(errorOf(() => r("{{}}")).summary).toBe("template: missing value for command");
    expect(errorOf(() => r("{{$x}}")).summary).toBe('template: undefined variable "$x"');
    expect(errorOf(() => r('{{ "a" | "b" }}')).summary).toBe("template: non executable command in pipeline stage 2");
    expect(errorOf(() => r("{{define `x`}}{{end}}")).summary).toContain("not supported");
  });
  test("field of a non-map", () => {
    expect(errorOf(() => r("{{.A.B}}", { A: "str" })).summary).toBe("template: can't evaluate field B in type string");
  });
  test("positions are in characters, on the right line", () => {
    const e = errorOf(() => r("é\nxx {{ bad_fn }}"));
    expect([e.line, e.column]).toEqual([2, 7]);
  });
});
