// Evaluation semantics, diagnostics with positions, conversions, the Body API in both syntaxes,
// dynamic blocks, the decoder and the writer.
import { describe, expect, test } from "bun:test";
import {
  EvalContext,
  HclWriter,
  T,
  V,
  convert,
  decodeBody,
  expandDynamicBlocks,
  dynamicBlockVariables,
  fromJson,
  formatHcl,
  parseExpression,
  parseHcl,
  parseHclJson,
  parseTypeExpr,
  parseTypeString,
  traversalString,
  standardFunctions,
  toJson,
  typeString,
  unify,
  type Value,
} from "../../core/hcl/index.ts";

const fns = standardFunctions({ baseDir: "/tmp" });
function ev(src: string, vars: Record<string, Value> = {}) {
  const p = parseExpression(src, "e.hcl");
  expect(p.diagnostics).toEqual([]);
  return p.expr.evaluate(new EvalContext(vars, fns));
}
const val = (src: string, vars: Record<string, Value> = {}) => {
  const r = ev(src, vars);
  expect(r.diagnostics.map((d) => d.detail)).toEqual([]);
  return toJson(r.value);
};
const diag = (src: string, vars: Record<string, Value> = {}) => {
  const r = ev(src, vars);
  expect(r.diagnostics.length).toBeGreaterThan(0);
  return r.diagnostics[0]!;
};

describe("expressions", () => {
  test("precedence and arithmetic", () => {
    expect(val("1 + 2 * 3 - 4 / 2")).toBe(5);
    expect(val("!true || 2 > 1 && 3 >= 3")).toBe(true);
    expect(val("-46 + 5")).toBe(-41);
    expect(val("(1 + 2) * 3")).toBe(9);
    expect(val("7 % 3")).toBe(1);
    expect(val('"1" + 1')).toBe(2);
  });
  test("equality is type-strict", () => {
    expect(val('"1" == 1')).toBe(false);
    expect(val("[1, 2] == [1, 2]")).toBe(true);
    expect(val("{a = 1} != {a = 2}")).toBe(true);
    expect(val("null == null")).toBe(true);
  });
  test("collections, splats, legacy index, for", () => {
    const vars = { list: fromJson([{ a: 1, b: [10, 20] }, { a: 2, b: [30] }]), m: fromJson({ x: "1", y: "2" }) };
    expect(val("list[*].a", vars)).toEqual([1, 2]);
    expect(val("list.*.a", vars)).toEqual([1, 2]);
    expect(val("list[*].b[0]", vars)).toEqual([10, 30]);
    expect(val("list.0.b.1", vars)).toBe(20);
    expect(val('m["x"]', vars)).toBe("1");
    expect(val("{for k, v in m : v => k}", vars)).toEqual({ "1": "x", "2": "y" });
    expect(val("[for i, v in ['a','b'] : i]".replace(/'/g, '"'))).toEqual([0, 1]);
    expect(val("{(\"a\") = 1, b: 2}")).toEqual({ a: 1, b: 2 });
    expect(val("max([1, 5, 3]...)")).toBe(5);
    expect(val("null[*]")).toEqual([]);
    expect(val('"x"[*]')).toEqual(["x"]);
  });
  test("conditional unifies result types", () => {
    const r = ev('true ? 1 : "x"');
    expect(r.value.type).toEqual(T.string);
    expect(toJson(r.value)).toBe("1");
    expect(diag('true ? [1] : "x"').summary).toBe("Inconsistent conditional result types");
  });
  test("diagnostics carry HCL summaries and exact ranges", () => {
    const d = diag("foo.bar");
    expect(d.summary).toBe("Unknown variable");
    expect(d.detail).toBe('There is no variable named "foo".');
    expect(d.range).toEqual({ filename: "e.hcl", start: { line: 1, column: 1, byte: 0 }, end: { line: 1, column: 4, byte: 3 } });
    const vars = { obj: V.object({ a: V.string("x") }), l: fromJson([1]) };
    expect(diag("obj.b", vars)).toMatchObject({ summary: "Unsupported attribute", detail: 'This object does not have an attribute named "b".' });
    expect(diag("obj.b", vars).range!.start.column).toBe(4);
    expect(diag("l[3]", vars).summary).toBe("Invalid index");
    expect(diag("nofunc(1)").summary).toBe("Call to unknown function");
    expect(diag('upper(1, 2)').summary).toBe("Too many function arguments");
    expect(diag("upper()").summary).toBe("Not enough function arguments");
    expect(diag("upper([1])")).toMatchObject({ summary: "Invalid function argument" });
    expect(diag('1 + "a"')).toMatchObject({ summary: "Invalid operand", detail: "Unsuitable value for right operand: a number is required." });
    expect(diag('"${null}"').summary).toBe("Invalid template interpolation value");
    expect(diag("{for k, v in {a=1, b=1} : v => k}").summary).toBe("Duplicate object key");
    expect(diag("[for x in null : x]").summary).toBe("Iteration over null value");
    expect(diag("1 / 0").summary).toBe("Operation failed");
  });
  test("unknown values propagate without errors", () => {
    const r = ev("u + 1 == 2 ? upper(u) : \"x${u}\"", { u: V.unknown() });
    expect(r.diagnostics).toEqual([]);
    expect(r.value.isKnown).toBe(false);
  });
  test("marks propagate through operations", () => {
    const s = V.string("pw").mark("sensitive");
    expect(ev('"x-${s}"', { s }).value.hasMark("sensitive")).toBe(true);
    expect(ev("[s][0]", { s }).value.hasMark("sensitive")).toBe(true);
    expect(ev("s == \"pw\"", { s }).value.hasMark("sensitive")).toBe(true);
  });
  test("variables() lists references but not for-expression locals", () => {
    const p = parseExpression('[for x in var.list : x + local.n if x != each.key]', "v.hcl");
    const refs = p.expr.variables().map(traversalString);
    expect(refs).toEqual(["var.list", "local.n", "each.key"]);
    expect(parseExpression('a.b[0]["c"].d', "t").expr.variables().map(traversalString)).toEqual(['a.b[0]["c"].d']);
  });
  test("templates: strip markers, directives, heredoc, escapes", () => {
    expect(val('"a ${~ "b" ~} c"')).toBe("abc");
    expect(val('"%{ if true ~} yes %{~ else ~} no %{~ endif }"')).toBe("yes");
    expect(val('"%{for k, v in {a=1} }${k}=${v};%{endfor}"')).toBe("a=1;");
    expect(val('"\\U0001F600 \\t"')).toBe("😀 \t");
    expect(diag('"${1}" == 1 ? "a" : nope').summary).toBe("Unknown variable");
  });
});

describe("parser errors", () => {
  const summaries = (src: string) => parseHcl(src, "p.hcl").diagnostics.map((d) => d.summary);
  test("structural errors", () => {
    expect(summaries("a = 1\na = 2\n")).toEqual(["Attribute redefined"]);
    expect(summaries('"a" = 1\n')).toEqual(["Invalid argument name"]);
    expect(summaries("a {\n")).toEqual(["Unclosed configuration block"]);
    expect(summaries("a = \n")).toEqual(["Invalid expression"]);
    expect(summaries('a = "abc\n')).toEqual(["Invalid multi-line string"]);
    expect(summaries("a = <<EOT\nx\n")).toEqual(["Unterminated template string"]);
    expect(summaries("a = [1 2]\n")).toEqual(["Missing item separator"]);
    expect(summaries("a = {b = 1 c = 2}\n")).toEqual(["Missing attribute separator"]);
    expect(summaries("a = f(1 2)\n")).toEqual(["Missing argument separator"]);
    expect(summaries('a = "\\q"\n')).toEqual(["Invalid escape sequence"]);
    expect(summaries("b = a ? 1\n")).toEqual(["Missing false expression in conditional"]);
    expect(summaries('a = "%{ if true }x"\n')).toEqual(["Unterminated template directive"]);
  });
});

describe("types and conversion", () => {
  test("type expressions", () => {
    const t = (s: string) => typeString(parseTypeExpr(parseExpression(s, "t").expr).type);
    expect(t("list(string)")).toBe("list(string)");
    expect(t("map(object({a=string, b=optional(number)}))")).toBe("map(object({a=string, b=number}))");
    expect(t("tuple([string, bool])")).toBe("tuple([string, bool])");
    expect(parseTypeExpr(parseExpression("strin", "t").expr).diagnostics[0]!.summary).toBe("Invalid type specification");
    for (const f of ["string", "number", "bool", "list(string)", "list(number)", "map(string)", "list(map(string))", "any"]) {
      const r = parseTypeString(f);
      expect(r.diagnostics).toEqual([]);
      expect(typeString(r.type)).toBe(f);
    }
  });
  test("conversion and optional attributes with defaults", () => {
    const ty = parseTypeExpr(parseExpression('object({a=string, b=optional(number, 5)})', "t").expr).type;
    expect(toJson(convert(fromJson({ a: 1, extra: true }), ty))).toEqual({ a: "1", b: 5 });
    expect(() => convert(fromJson({ b: 1 }), ty)).toThrow('attribute "a" is required');
    expect(toJson(convert(fromJson(["a", 1, true]), T.list(T.string)))).toEqual(["a", "1", "true"]);
    expect(() => convert(V.string("x"), T.number)).toThrow("a number is required");
    expect(typeString(unify([T.object({ a: T.string }), T.object({ b: T.number })])!)).toBe("map(string)");
  });
});

describe("bodies", () => {
  const schema = { attributes: [{ name: "name", required: true }, { name: "n" }], blocks: [{ type: "inner", labelNames: ["label"] }] };
  test("content reports unsupported and missing items with ranges", () => {
    const { file } = parseHcl('n = 1\nbad = 2\ninner "x" {}\ninner {}\nother {}\n', "b.hcl");
    const { diagnostics } = file.body.content(schema);
    expect(diagnostics.map((d) => [d.summary, d.range!.start.line])).toEqual([
      ["Missing required argument", 1],
      ["Missing label for inner", 4],
      ["Unsupported argument", 2],
      ["Unsupported block type", 5],
    ]);
  });
  test("partialContent leaves the rest", () => {
    const { file } = parseHcl("a = 1\nb = 2\nblk {}\n", "b.hcl");
    const { content, remain } = file.body.partialContent({ attributes: [{ name: "a" }] });
    expect(Object.keys(content.attributes)).toEqual(["a"]);
    const rest = remain.content({ attributes: [{ name: "b" }], blocks: [{ type: "blk" }] });
    expect(rest.diagnostics).toEqual([]);
    expect(rest.content.blocks.length).toBe(1);
  });
  test("JSON syntax: same API, templates, labels, positions", () => {
    const src = '{\n  "name": "x-${var.v}",\n  "n": 2,\n  "inner": {"lab": {"k": "v"}},\n  "//": "comment"\n}';
    const { file, diagnostics } = parseHclJson(src, "b.pkr.json");
    expect(diagnostics).toEqual([]);
    const { content, diagnostics: d2 } = file.body.content(schema);
    expect(d2).toEqual([]);
    const ctx = new EvalContext({ var: V.object({ v: V.string("y") }) });
    expect(toJson(content.attributes.name!.expr.evaluate(ctx).value)).toBe("x-y");
    expect(content.attributes.name!.expr.variables()[0]!.root).toBe("var");
    expect(content.blocks[0]!.labels).toEqual(["lab"]);
    expect(content.attributes.n!.nameRange.start).toEqual({ line: 3, column: 3, byte: 28 });
    const bad = parseHclJson('{"a": 1,}', "x.json");
    expect(bad.diagnostics[0]!.summary).toBe("Invalid object property name");
    const extra = parseHclJson('{"zzz": 1}', "x.json").file.body.content(schema);
    expect(extra.diagnostics.map((d) => d.summary)).toEqual(["Missing required argument", "Extraneous JSON object property"]);
  });
  test("decodeBody with types and nested blocks", () => {
    const { file } = parseHcl('name = 5\ntags = { a = "b" }\ndisk "d1" { size = "10" }\ndisk "d2" { size = 20 }\n', "d.hcl");
    const r = decodeBody(file.body, {
      attributes: [
        { name: "name", type: T.string, required: true },
        { name: "tags", type: T.map(T.string) },
      ],
      blocks: [{ type: "disk", nesting: "map", labels: ["name"], schema: { attributes: [{ name: "size", type: T.number }] } }],
    });
    expect(r.diagnostics).toEqual([]);
    expect(toJson(r.value)).toEqual({ name: "5", tags: { a: "b" }, disk: { d1: { size: 10 }, d2: { size: 20 } } });
    const bad = decodeBody(parseHcl("name = [1]\n", "d.hcl").file.body, { attributes: [{ name: "name", type: T.string }] });
    expect(bad.diagnostics[0]).toMatchObject({ summary: "Incorrect attribute value type", detail: 'Inappropriate value for attribute "name": string required.' });
  });
  test("dynamic blocks expand with iterators and labels", () => {
    const src = 'dynamic "disk" {\n  for_each = var.disks\n  iterator = d\n  labels = [d.key]\n  content {\n    size = d.value * 2\n  }\n}\ndisk "static" {\n  size = 1\n}\n';
    const ctx = new EvalContext({ var: V.object({ disks: fromJson({ a: 1, b: 2 }) }) });
    const body = expandDynamicBlocks(parseHcl(src, "dyn.hcl").file.body, ctx);
    const { content, diagnostics } = body.content({ blocks: [{ type: "disk", labelNames: ["name"] }] });
    expect(diagnostics).toEqual([]);
    const sizes = content.blocks.map((b) => {
      const inner = b.body.content({ attributes: [{ name: "size" }] });
      return [b.labels[0], toJson(inner.content.attributes.size!.expr.evaluate(ctx).value)];
    });
    expect(sizes).toEqual([["a", 2], ["b", 4], ["static", 1]]);
  });
});

describe("writer", () => {
  test("renders blocks and values canonically", () => {
    const w = new HclWriter();
    const v = w.body.block("variable", ["region"]);
    v.attributeRaw("type", "string");
    v.attribute("default", "us-${x}");
    w.body.blankLine();
    const s = w.body.block("source", ["null", "a"]);
    s.attribute("communicator", "none");
    s.attribute("tags", { Name: "x", "with space": 1 });
    s.attribute("list", ["a", 2, true]);
    const out = w.toString();
    expect(out).toBe(
      'variable "region" {\n  type    = string\n  default = "us-$${x}"\n}\n\nsource "null" "a" {\n  communicator = "none"\n  tags = {\n    Name         = "x"\n    "with space" = 1\n  }\n  list = ["a", 2, true]\n}\n',
    );
    expect(formatHcl(out, "w.hcl")).toBe(out);
    expect(parseHcl(out, "w.hcl").diagnostics).toEqual([]);
  });
});

describe("JSON syntax details", () => {
  test("root array of objects, repeated properties and label arrays make several blocks", () => {
    const src = '[{"b": {"x": {"v": 1}}}, {"b": [{"y": {"v": 2}}, {"z": {"v": 3}}], "b": {"w": {"v": 4}}}]';
    const { file, diagnostics } = parseHclJson(src, "arr.json");
    expect(diagnostics).toEqual([]);
    const { content } = file.body.content({ blocks: [{ type: "b", labelNames: ["name"] }] });
    expect(content.blocks.map((b) => b.labels[0])).toEqual(["x", "y", "z", "w"]);
  });
  test("strings are literal without a context and templates with one", () => {
    const { file } = parseHclJson('{"a": "${1 + 2}", "b": "x ${ 1 }"}', "t.json");
    const { attributes } = file.body.justAttributes();
    expect(toJson(attributes.a!.expr.evaluate().value)).toBe("${1 + 2}");
    expect(toJson(attributes.a!.expr.evaluate(new EvalContext({})).value)).toBe(3);
    expect(toJson(attributes.b!.expr.evaluate(new EvalContext({})).value)).toBe("x 1");
  });
});

describe("dynamic blocks, more", () => {
  const ctx = new EvalContext({ xs: fromJson(["a", "b"]), n: fromJson(5) });
  test("nested dynamic blocks and the default iterator name", () => {
    const src = 'dynamic "outer" {\n  for_each = xs\n  content {\n    name = outer.value\n    dynamic "inner" {\n      for_each = [1, 2]\n      content {\n        v = "${outer.key}-${inner.value}"\n      }\n    }\n  }\n}\n';
    const body = expandDynamicBlocks(parseHcl(src, "n.hcl").file.body, ctx);
    const { content, diagnostics } = body.content({ blocks: [{ type: "outer" }] });
    expect(diagnostics).toEqual([]);
    const out = content.blocks.map((b) => {
      const c = b.body.content({ attributes: [{ name: "name" }], blocks: [{ type: "inner" }] }).content;
      return [
        toJson(c.attributes.name!.expr.evaluate(ctx).value),
        c.blocks.map((ib) => toJson(ib.body.content({ attributes: [{ name: "v" }] }).content.attributes.v!.expr.evaluate(ctx).value)),
      ];
    });
    expect(out).toEqual([["a", ["0-1", "0-2"]], ["b", ["1-1", "1-2"]]]);
  });
  test("errors: non-iterable for_each, missing content, unknown block type", () => {
    const sum = (src: string) =>
      expandDynamicBlocks(parseHcl(src, "e.hcl").file.body, ctx)
        .content({ blocks: [{ type: "disk" }] })
        .diagnostics.map((d) => d.summary);
    expect(sum('dynamic "disk" {\n  for_each = n\n  content {}\n}\n')).toEqual(["Invalid dynamic for_each value"]);
    expect(sum('dynamic "disk" {\n  for_each = xs\n}\n')).toEqual(["Missing content block"]);
    expect(sum('dynamic "nope" {\n  for_each = xs\n  content {}\n}\n')).toEqual(["Unsupported block type"]);
  });
  test("JSON syntax dynamic blocks", () => {
    const src = '{"dynamic": {"disk": {"for_each": "${xs}", "content": {"size": "${disk.value}"}}}}';
    const body = expandDynamicBlocks(parseHclJson(src, "d.json").file.body, ctx);
    const { content, diagnostics } = body.content({ blocks: [{ type: "disk" }] });
    expect(diagnostics).toEqual([]);
    expect(content.blocks.map((b) => toJson(b.body.content({ attributes: [{ name: "size" }] }).content.attributes.size!.expr.evaluate(ctx).value))).toEqual(["a", "b"]);
  });
});

describe("dynamic blocks at validate time", () => {
  test("an unknown for_each gives one block with an unknown iterator; variables are discoverable", () => {
    const src = 'dynamic "disk" {\n  for_each = data.x.list\n  labels = [disk.key]\n  content {\n    size = disk.value\n  }\n}\n';
    const body = parseHcl(src, "u.hcl").file.body;
    expect(dynamicBlockVariables(body).map(traversalString)).toEqual(["data.x.list"]);
    const ctx = new EvalContext({ data: V.unknown() });
    const { content, diagnostics } = expandDynamicBlocks(body, ctx).content({ blocks: [{ type: "disk", labelNames: ["name"] }] });
    expect(diagnostics).toEqual([]);
    expect(content.blocks.length).toBe(1);
    const size = content.blocks[0]!.body.content({ attributes: [{ name: "size" }] }).content.attributes.size!.expr.evaluate(ctx);
    expect(size.diagnostics).toEqual([]);
    expect(size.value.isKnown).toBe(false);
  });
});

test("a conditional reports only the chosen result's problems (HCL: x != null ? f(x) : y)", () => {
  const n = { u: V.null(T.string) };
  expect(val('u != null ? upper(u) : "none"', n)).toBe("none");
  expect(diag('u == null ? upper(u) : "none"', n).summary).toBe("Invalid function argument");
});
