// The one config decoder: Packer's weak typing (mapstructure WeaklyTypedInput + StringToSlice(",")),
// its issues and their wording, and builder config types derived from the schema.
import { describe, expect, test } from "bun:test";
import { convert, decode } from "../../core/config/decode.ts";
import { issueMessage } from "../../core/config/messages.ts";
import type { ConfigSchema, FieldType } from "../../core/config/schema.ts";
import type { DockerConfig } from "../../core/builders/docker/config.ts";
import type { JsonValue } from "../../core/values/json.ts";

const coerce = (type: FieldType, v: JsonValue) => {
  const c = convert(type, v, ["k"]);
  return c.ok ? { ok: true, value: c.value } : { ok: false };
};

describe("convert (weak typing)", () => {
  test("scalars convert as mapstructure's WeaklyTypedInput does", () => {
    expect(coerce("string", 5)).toEqual({ ok: true, value: "5" });
    expect(coerce("string", true)).toEqual({ ok: true, value: "1" });
    expect(coerce("number", "7")).toEqual({ ok: true, value: 7 });
    expect(coerce("number", "seven")).toEqual({ ok: false });
    expect(coerce("bool", "true")).toEqual({ ok: true, value: true });
    expect(coerce("bool", "0")).toEqual({ ok: true, value: false });
    expect(coerce("bool", "yes")).toEqual({ ok: false });
  });

  test("a single value where a list is wanted becomes a one-element list", () => {
    expect(coerce("list(string)", "A=b")).toEqual({ ok: true, value: ["A=b"] });
    expect(coerce("list(number)", ["1", 2])).toEqual({ ok: true, value: [1, 2] });
    expect(coerce("map(string)", { a: 1 })).toEqual({ ok: true, value: { a: "1" } });
    expect(coerce("map(string)", ["a"])).toEqual({ ok: false });
    expect(coerce("list(map(string))", [{ a: "x" }])).toEqual({ ok: true, value: [{ a: "x" }] });
  });

  test("Go's edges: numbers without exponent, prefixed integers, empty strings, comma lists, lists of maps", () => {
    expect(coerce("string", 1e21)).toEqual({ ok: true, value: "1000000000000000000000" });
    expect(coerce("number", "0x1f")).toEqual({ ok: true, value: 31 });
    expect(coerce("number", "0b101")).toEqual({ ok: true, value: 5 });
    expect(coerce("number", "")).toEqual({ ok: true, value: 0 });
    expect(coerce("number", " 5")).toEqual({ ok: false });
    expect(coerce("bool", "")).toEqual({ ok: true, value: false });
    expect(coerce("bool", 2)).toEqual({ ok: true, value: true });
    expect(coerce("list(string)", "a,b")).toEqual({ ok: true, value: ["a", "b"] });
    expect(coerce("list(string)", "")).toEqual({ ok: true, value: [] });
    expect(coerce("list(number)", 3)).toEqual({ ok: true, value: [3] });
    expect(coerce("map(string)", [])).toEqual({ ok: true, value: {} });
    expect(coerce("map(string)", [{ a: "1" }, { b: 2 }])).toEqual({ ok: true, value: { a: "1", b: "2" } });
    expect(coerce("list(map(string))", { a: "x" })).toEqual({ ok: true, value: [{ a: "x" }] });
  });
});

describe("decode", () => {
  const schema: ConfigSchema = {
    fields: [
      { name: "name", type: "string", required: true },
      { name: "retries", type: "number", default: 3 },
      { name: "tags", type: "list(string)" },
    ],
  };

  test("unknown keys, wrong types and missing keys are issues worded one way, naming nested elements", () => {
    const r = decode(schema, { bogus: 1, packer_build_name: "x", retries: {}, tags: ["a", ["b"]] });
    expect(r.issues.map(issueMessage)).toEqual([
      `unknown configuration key: '"bogus"'`,
      "'retries' expected type 'number', got unconvertible type 'map[string]interface {}'",
      "'tags[1]' expected type 'string', got unconvertible type '[]interface {}'",
      "required configuration key 'name' is not set",
    ]);
  });

  test("null leaves a key unset; zeroFill gives every field a value; partial checks only what is set", () => {
    expect(decode(schema, { name: null }).issues.map(issueMessage)).toEqual(["required configuration key 'name' is not set"]);
    expect(decode(schema, { name: "n" }, { zeroFill: true }).value).toEqual({ name: "n", retries: 3, tags: [] });
    expect(decode(schema, { tags: "x" }, { partial: true })).toEqual({ value: { tags: ["x"] }, issues: [] });
  });

  test("a builder's config type is derived from its schema", () => {
    const pull: DockerConfig["pull"] = true;
    const changes: DockerConfig["changes"] = ["ENV A=b"];
    const volumes: DockerConfig["volumes"] = { "/a": "/b" };
    // @ts-expect-error: a bool field is not a string
    const wrong: DockerConfig["commit"] = "yes";
    expect([pull, changes, volumes, wrong]).toHaveLength(4);
  });
});
