// Config checks against a plugin's schema (the weak typing itself: tests/config/decode.test.ts).
import { describe, expect, test } from "bun:test";
import { checkConfigs } from "../../core/plugin/config-check.ts";
import type { ConfigSchema } from "../../core/config/schema.ts";
import type { JsonValue } from "../../core/values/json.ts";

describe("checkConfigs", () => {
  const schema: ConfigSchema = {
    fields: [
      { name: "name", type: "string", required: true },
      { name: "retries", type: "number", default: 3 },
      { name: "tags", type: "list(string)" },
    ],
  };

  test("defaults come first, values are converted, the plugin is named", () => {
    const r = checkConfigs("demo", schema, [{ name: "x", tags: "one" }, { retries: "5" }]);
    expect(r.diagnostics).toEqual([]);
    expect(r.configs).toEqual([{ retries: 3 }, { name: "x", tags: ["one"] }, { retries: 5 }]);
  });

  test("unknown keys, wrong types and missing required keys are diagnostics", () => {
    const r = checkConfigs("demo", schema, [{ bogus: 1, retries: {} }]);
    expect(r.diagnostics.map((d) => [d.summary, d.detail])).toEqual([
      [`unknown configuration key: '"bogus"'`, "plugin demo"],
      ["'retries' expected type 'number', got unconvertible type 'map[string]interface {}'", "plugin demo"],
      ["required configuration key 'name' is not set", "plugin demo"],
    ]);
  });

  test("allowUnknown passes unknown keys through; null values are dropped", () => {
    const r = checkConfigs("demo", { ...schema, allowUnknown: true }, [{ name: "x", extra: [1], tags: null }]);
    expect(r.diagnostics).toEqual([]);
    expect(r.configs[1]).toEqual({ name: "x", extra: [1] });
  });
});

test("a value nested deeper than the limit is refused, naming the key and the plugin", () => {
  let deep: JsonValue = "x";
  for (let i = 0; i < 30_000; i++) deep = i % 2 ? [deep] : { a: deep };
  const schema: ConfigSchema = { fields: [{ name: "data", type: "any" }] };
  const r = checkConfigs("deep-plugin", schema, [{ data: deep }]);
  expect(r.diagnostics.map((d) => `${d.summary} (${d.detail})`)).toEqual(["the value of data is nested more than 200 levels deep (plugin deep-plugin)"]);
  let ok: JsonValue = "x";
  for (let i = 0; i < 150; i++) ok = [ok];
  expect(checkConfigs("deep-plugin", schema, [{ data: ok }]).diagnostics).toEqual([]);
});
