// The positioned JSON parser: values equal JSON.parse's, every node and key knows its range, syntax
// errors use Go's wording and offsets, and Packer's caret excerpt is reproduced exactly.
import { describe, expect, test } from "bun:test";
import {
  collectDuplicates,
  parseJson,
  stringValueOffset,
  toJsonValue,
  type JsonNode,
  type JsonObjectNode,
} from "../../../core/template/json/positioned-json.ts";
import { SourceFile } from "../../../core/source/source-file.ts";
import { goSyntaxOffset, jsonSyntaxDiagnostic, packerErrorLocation } from "../../../core/template/json/syntax-error.ts";

const parse = (text: string) => {
  const src = new SourceFile("t.json", text);
  return { src, res: parseJson(src) };
};
const node = (text: string): { src: SourceFile; node: JsonNode } => {
  const { src, res } = parse(text);
  if (!res.ok) throw new Error(res.error.message);
  return { src, node: res.node };
};
const errorOf = (text: string) => {
  const { res } = parse(text);
  if (res.ok) throw new Error("expected a syntax error");
  return res.error;
};

describe("values", () => {
  test.each([
    '{"a": [1, -2.5e3, true, false, null, "x"], "b": {"c": {}}, "d": []}',
    '"\\u00e9\\n\\t\\"\\\\\\/"',
    "  0 ",
    '[{"nested": [[["deep"]]]}]',
    '"😀 unicode é"',
    "-0.0e-0",
  ])("%s", (text) => {
    expect(toJsonValue(node(text).node)).toEqual(JSON.parse(text));
  });
});

describe("positions", () => {
  const text = '{\n  "name": "héllo",\n  "list": [1,\n\t2]\n}';
  const { src, node: root } = node(text);
  const obj = root as JsonObjectNode;
  test("keys and values carry ranges", () => {
    const m = obj.members.get("name")!;
    expect(src.range(m.key.start, m.key.end)).toEqual({
      filename: "t.json",
      start: { line: 2, column: 3, byte: 4 },
      end: { line: 2, column: 9, byte: 10 },
    });
    expect(src.range(m.value.start, m.value.end).start).toEqual({ line: 2, column: 11, byte: 12 });
    // "héllo" is 7 characters but 8 bytes.
    expect(src.range(m.value.start, m.value.end).end).toEqual({ line: 2, column: 18, byte: 20 });
  });
  test("a tab counts as one column", () => {
    const list = obj.members.get("list")!.value;
    if (list.kind !== "array") throw new Error("not an array");
    expect(src.pos(list.items[1]!.start)).toEqual({ line: 4, column: 2, byte: 37 });
  });
  test("string offsets map through escapes", () => {
    const s = '{"k": "a\\nb{{x}}"}';
    const { node: r } = node(s);
    const v = (r as JsonObjectNode).members.get("k")!.value;
    if (v.kind !== "string") throw new Error("not a string");
    expect(v.value.indexOf("{{")).toBe(3);
    expect(s.slice(stringValueOffset(s, v, 3), stringValueOffset(s, v, 3) + 2)).toBe("{{");
  });
  test("duplicate keys: last wins, every later occurrence recorded", () => {
    const { node: r } = node('{"a": 1, "b": {"x": 1, "x": 2}, "a": 3}');
    expect(toJsonValue(r)).toEqual({ a: 3, b: { x: 2 } });
    expect(collectDuplicates(r).map((m) => m.key.value)).toEqual(["a", "x"]);
  });
});

describe("syntax errors use Go's messages", () => {
  test.each([
    ['{"a": 1,}', "invalid character '}' looking for beginning of object key string", 8],
    ["[1, 2", "unexpected end of JSON input", 5],
    ['{"a" 1}', "invalid character '1' after object key", 5],
    ['{"a": 1 "b"}', "invalid character '\"' after object key:value pair", 8],
    ["[1 2]", "invalid character '2' after array element", 3],
    ["{} x", "invalid character 'x' after top-level value", 3],
    ["01", "invalid character '1' after top-level value", 1],
    ["-x", "invalid character 'x' in numeric literal", 1],
    ["1.e5", "invalid character 'e' after decimal point in numeric literal", 2],
    ["1e+", "unexpected end of JSON input", 3],
    ["tru", "unexpected end of JSON input", 3],
    ["trux", "invalid character 'x' in literal true (expecting 'e')", 3],
    ["nul", "unexpected end of JSON input", 3],
    ['"a\\qb"', "invalid character 'q' in string escape code", 3],
    ['"\\u12G4"', "invalid character 'G' in \\u hexadecimal character escape", 5],
    ['"a\nb"', "invalid character '\\n' in string literal", 2],
    ["'x'", "invalid character '\\'' looking for beginning of value", 0],
    ["", "unexpected end of JSON input", 0],
  ])("%j", (text, message, offset) => {
    expect(errorOf(text)).toEqual({ message, offset });
  });
});

describe("Packer's caret excerpt", () => {
  test("the example from Packer 1.6.6 (line 3, column 46, offset 63)", () => {
    const text = '{\n  "builders": [\n    {"type": "null", "communicator": "none",}\n  ]\n}\n';
    const { src, res } = parse(text);
    if (res.ok) throw new Error("expected an error");
    const d = jsonSyntaxDiagnostic(src, res.error);
    expect(d.summary).toBe("Error parsing JSON: invalid character '}' looking for beginning of object key string");
    expect(d.range?.start).toEqual({ line: 3, column: 45, byte: 62 });
    expect(d.detail).toBe(
      "At line 3, column 46 (offset 63):\n" +
        '    2:   "builders": [\n' +
        '    3:     {"type": "null", "communicator": "none",}\n' +
        // col + 5 spaces: the caret sits under the '}' (7-character line prefix, column 45).
        `${" ".repeat(51)}^\n`,
    );
  });
  test("line 1 has no previous line and an exact column", () => {
    const text = '{"builders":[{"type":"test"}]*';
    const loc = packerErrorLocation(text, goSyntaxOffset(text, 29));
    expect([loc.line, loc.column, loc.offset]).toEqual([1, 30, 30]);
    expect(loc.excerpt).toBe(`    1: ${text}\n${" ".repeat(35)}^\n`);
  });
  test("offsets count UTF-8 bytes", () => {
    const text = '{"é": 1,}';
    const err = errorOf(text);
    expect(goSyntaxOffset(text, err.offset)).toBe(10);
  });
});
