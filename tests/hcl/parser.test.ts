import { describe, expect, test } from "bun:test";
import { parseHcl, EvalContext, V, toJson } from "../../core/hcl/index.ts";
import { CORPUS } from "./corpus.ts";

function evalAll(src: string, vars: Record<string, ReturnType<typeof V.string>> = {}) {
  const { file, diagnostics } = parseHcl(src, "t.hcl");
  expect(diagnostics).toEqual([]);
  const { attributes } = file.body.justAttributes();
  const ctx = new EvalContext(vars);
  const out: Record<string, unknown> = {};
  for (const [k, a] of Object.entries(attributes)) {
    const r = a.expr.evaluate(ctx);
    expect(r.diagnostics).toEqual([]);
    out[k] = toJson(r.value);
  }
  return out;
}

describe("native syntax", () => {
  test("operators, templates, for, splat", () => {
    const out = evalAll(
      [
        "a = 1 + 2 * 3",
        'b = "hello ${name}!"',
        "c = [for x in [1,2,3] : x * 2 if x > 1]",
        "d = { for k, v in {a=1, b=2} : v => k }",
        "e = <<-EOT",
        "    hi",
        "      there ${name}",
        "    EOT",
        "f = [{a=1},{a=2}][*].a",
        'g = true ? "x" : 1',
        'h = "%{ for v in ["a","b"] ~} [${v}] %{~ endfor }"',
        "i = -1 - -2",
        'j = "\\u00e9\\n$${x}"',
        "k = {for s in [\"a\",\"b\",\"a\"] : s => s...}",
      ].join("\n"),
      { name: V.string("world") },
    );
    expect(out).toEqual({
      a: 7,
      b: "hello world!",
      c: [4, 6],
      d: { "1": "a", "2": "b" },
      e: "hi\n  there world\n",
      f: [1, 2],
      g: "x",
      h: "[a][b]",
      i: 1,
      j: "é\n${x}",
      k: { a: ["a", "a"], b: ["b"] },
    });
  });

  test("blocks with labels and positions", () => {
    const { file, diagnostics } = parseHcl('source "null" "x" {\n  a = 1\n}\n', "f.hcl");
    expect(diagnostics).toEqual([]);
    const { content } = file.body.content({ blocks: [{ type: "source", labelNames: ["type", "name"] }] });
    const b = content.blocks[0]!;
    expect(b.labels).toEqual(["null", "x"]);
    expect(b.labelRanges[1]!.start).toEqual({ line: 1, column: 15, byte: 14 });
    const inner = b.body.content({ attributes: [{ name: "a" }] });
    expect(inner.diagnostics).toEqual([]);
    expect(inner.content.attributes.a!.range.start).toEqual({ line: 2, column: 3, byte: 22 });
  });

  test("a = 1, b = 2 on one line is an error", () => {
    const { diagnostics } = parseHcl("a = 1, b = 2\n", "f.hcl");
    expect(diagnostics.map((d) => d.summary)).toEqual(["Unexpected comma after argument"]);
    expect(diagnostics[0]!.range!.start.column).toBe(6);
  });

  test("columns count grapheme clusters, bytes count UTF-8", () => {
    const { file } = parseHcl('a = "👩‍👩‍👧‍👦é" + b\n', "g.hcl");
    const ref = file.body.justAttributes().attributes.a!.expr.variables()[0]!;
    expect(ref.rootRange.start).toEqual({ line: 1, column: 12, byte: 36 });
  });

  test("tabs are one column", () => {
    const { file } = parseHcl("\ta\t=\tb\n", "t.hcl");
    const ref = file.body.justAttributes().attributes.a!.expr.variables()[0]!;
    expect(ref.rootRange.start).toEqual({ line: 1, column: 6, byte: 5 });
  });
});

test("a byte order mark is reported and positions stay true", () => {
  const { file, diagnostics } = parseHcl("\ufeffa = b\n", "bom.hcl");
  expect(diagnostics.map((d) => d.summary)).toEqual(["Invalid character"]);
  const ref = file.body.justAttributes().attributes.a!.expr.variables()[0]!;
  expect(ref.rootRange.start).toEqual({ line: 1, column: 6, byte: 7 });
});

test("invalid UTF-8 bytes are a positioned error", () => {
  const { diagnostics } = parseHcl(new Uint8Array([0x61, 0x20, 0x3d, 0x20, 0x22, 0xc3, 0xa9, 0xff, 0x22, 0x0a]), "bad.hcl");
  expect(diagnostics.map((d) => [d.summary, d.range!.start.byte, d.range!.start.column])).toEqual([["Invalid character encoding", 7, 7]]);
});

test("object for-expressions may start on the line after the brace", () => {
  const { file, diagnostics } = parseHcl('x = {\n  for k, v in {a = 1} :\n  k => v\n}\n', "f.hcl");
  expect(diagnostics).toEqual([]);
  expect(toJson(file.body.justAttributes().attributes.x!.expr.evaluate(new EvalContext({})).value)).toEqual({ a: 1 });
});

test("every HCL file in the corpus parses, except the deliberately invalid ones", () => {
  const { readdirSync, readFileSync, statSync } = require("node:fs") as typeof import("node:fs");
  const { join } = require("node:path") as typeof import("node:path");
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((e) => {
      const p = join(d, e);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".hcl") ? [p] : [];
    });
  const invalid = ["duplicate_required_plugins/packer.pkr.hcl", "single_unclosed.hcl", "single_oneline_invalid.hcl", "singleline_bad.hcl"];
  const files = walk(CORPUS);
  expect(files.length).toBeGreaterThan(150);
  const failing = files.filter((f) => parseHcl(readFileSync(f), f).diagnostics.length > 0).map((f) => f.slice(CORPUS.length + 1));
  expect(failing.filter((f) => !invalid.some((i) => f.endsWith(i)))).toEqual([]);
  expect(failing.length).toBe(invalid.length);
});
