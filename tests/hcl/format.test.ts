// Formatter goldens from Packer's own tests (command/fmt and hcl2template/formatter) plus
// hclwrite behaviours.
import { CORPUS } from "./corpus.ts";
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { formatHcl } from "../../core/hcl/format.ts";
import { DiagnosticsError } from "../../core/errors/diagnostic.ts";

const FIX = `${CORPUS}/packer-fixtures`;
const read = (p: string) => readFileSync(`${FIX}/${p}`, "utf8");
const expectations = JSON.parse(read("EXPECTATIONS/command-fmt.json")) as {
  pipeCases: Array<{ stdin: string; stdout: string }>;
};

describe("formatter goldens", () => {
  test("every hcl2_upgrade expected.pkr.hcl (hclwrite output) is a fixed point", () => {
    const dir = `${FIX}/command/test-fixtures/hcl2_upgrade`;
    const names = readdirSync(dir).filter((d) => existsSync(`${dir}/${d}/expected.pkr.hcl`));
    expect(names.length).toBeGreaterThan(15);
    for (const d of names) {
      const src = readFileSync(`${dir}/${d}/expected.pkr.hcl`, "utf8");
      expect([d, formatHcl(src, d)]).toEqual([d, src]);
    }
  });
  test("hcl2template/testdata/format: unformatted → formatted byte for byte", () => {
    const got = formatHcl(read("hcl2template/testdata/format/unformatted.pkr.hcl"), "unformatted.pkr.hcl");
    expect(got).toBe(read("hcl2template/testdata/format/formatted.pkr.hcl"));
  });
  test("formatted files are left alone", () => {
    for (const f of ["hcl2template/testdata/format/formatted.pkr.hcl", "command/test-fixtures/fmt/formatted.pkr.hcl"]) {
      expect(formatHcl(read(f), f)).toBe(read(f));
    }
  });
  test("unformatted fixtures change (fmt -check exits 3)", () => {
    for (const f of ["command/test-fixtures/fmt/unformatted.pkr.hcl", "command/test-fixtures/fmt/unformatted.pkrvars.hcl", "command/test-fixtures/fmt/unformatted.auto.pkrvars.hcl", "hcl2template/testdata/format/unformatted.pkrvars.hcl"]) {
      const src = read(f);
      const once = formatHcl(src, f);
      expect(once).not.toBe(src);
      expect(formatHcl(once, f)).toBe(once);
    }
    expect(formatHcl(read("command/test-fixtures/fmt/unformatted.pkr.hcl"), "u.pkr.hcl")).toBe(
      'variable "region" {\n  type = string\n}\n\nsource "amazon-ebs" "example" {\n  region = var.region\n}\n\nbuild {\n  sources = ["source.amazon-ebs.example"]\n}\n',
    );
  });
  test("pipe cases from command-fmt.json", () => {
    for (const c of expectations.pipeCases) expect(formatHcl(c.stdin, "-")).toBe(c.stdout);
  });
});

describe("hclwrite behaviours", () => {
  const cases: Array<[string, string]> = [
    ["a=1\nbb  =  2 # c\nccc = [1,2]\n", "a   = 1\nbb  = 2 # c\nccc = [1, 2]\n"],
    ["x = { a=1, b = -1 }\n", "x = { a = 1, b = -1 }\n"],
    ["x = a - b\ny = f( -1 , 2...)\n", "x = a - b\ny = f(-1, 2...)\n"],
    ["x = [for v in [a]: v if v!=null]\n", "x = [for v in [a] : v if v != null]\n"],
    ['x = "${ a }-%{if b}y%{ endif }"\n', 'x = "${a}-%{if b}y%{endif}"\n'],
    ["b {\n\tc = 1\n        d {}\n}\n", "b {\n  c = 1\n  d {}\n}\n"],
    ["x = <<EOT\n  keep   this\nEOT\ny=1\n", "x = <<EOT\n  keep   this\nEOT\ny = 1\n"],
    ["a = b[0].c[*].d\n", "a = b[0].c[*].d\n"],
    ["a = x ? 1 : -2\n", "a = x ? 1 : -2\n"],
    ["a = ! b\n", "a = !b\n"],
    ['x = {\n  "é" = 1\n  ab = 2\n}\n', 'x = {\n  "é" = 1\n  ab  = 2\n}\n'],
    ["block \"l\" {\n\n\n  a = 1 // one\n  bcd = 2 // two\n}\n", "block \"l\" {\n\n\n  a   = 1 // one\n  bcd = 2 // two\n}\n"],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => expect(formatHcl(input, "t.hcl")).toBe(want));
  }
  test("syntax errors are reported, not formatted", () => {
    expect(() => formatHcl("a = \n", "bad.hcl")).toThrow(DiagnosticsError);
  });
});
