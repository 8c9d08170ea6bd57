// What data source plugins send and take, piece by piece: gob-encoded cty values and types and
// hcldec specs (as tests/support's encoder, written from Go's encoding/gob, writes them), big.Float
// bytes as Go writes them, and the cty JSON Configure takes. The whole exchange with a plugin
// process is in tests/e2e/packer-plugin-datasource.test.ts.
import { beforeAll, describe, expect, test } from "bun:test";
import { loadMsgpack } from "../../core/packer-plugin/msgpack.ts";
import { bigFloat, ctyJsonDynamic, ctyType, ctyValueFromGob, ctyValueFromMsgpack } from "../../core/packer-plugin/cty.ts";
import { objectSpecProto, valueMsgpack } from "../support/cty-protobuf.ts";
import { encode as encodeMsgpack, ExtData } from "@msgpack/msgpack";
import { impliedTypeOfSpec, schemaFromConfigSpec } from "../../core/packer-plugin/hcl-spec.ts";
import { toJson } from "../../core/hcl/value.ts";
import { typeString } from "../../core/hcl/types.ts";
import { G, GobEncoder } from "../support/gob-encoder.ts";
import { floatGob, objectSpecGob, typeGob, valueGob } from "../support/cty-gob.ts";

const hex = (s: string) => new Uint8Array(s.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));

beforeAll(loadMsgpack);

describe("the test plugins' gob encoder", () => {
  test("writes Go's own example (encoding/gob doc.go) byte for byte", () => {
    const Point = G.struct("Point", [["X", G.int], ["Y", G.int]]);
    const bytes = new GobEncoder().encode(Point, { X: 22, Y: 33 }).encode(Point, { X: 22, Y: 33 }).bytes();
    const def = "1f ff 81 03 01 01 05 50 6f 69 6e 74 01 ff 82 00 01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00";
    expect(bytes).toEqual(hex(`${def} 07 ff 82 01 2c 01 42 00 07 ff 82 01 2c 01 42 00`));
  });
});

describe("cty over gob", () => {
  test("big.Float as Go's GobEncode writes it: 42, -1.5, 0 (big.NewFloat, precision 53)", () => {
    expect(bigFloat(hex("01 0a 00 00 00 35 00 00 00 06 a8 00 00 00 00 00 00 00")).toNumber()).toBe(42);
    expect(bigFloat(hex("01 0b 00 00 00 35 00 00 00 01 c0 00 00 00 00 00 00 00")).toNumber()).toBe(-1.5);
    expect(bigFloat(hex("01 08 00 00 00 35")).toNumber()).toBe(0);
    expect(bigFloat(floatGob(123456789)).toNumber()).toBe(123456789);
  });

  test("types: primitives, lists, objects", () => {
    expect(typeString(ctyType(typeGob("string")))).toBe("string");
    expect(typeString(ctyType(typeGob(["list", "number"])))).toBe("list(number)");
    expect(typeString(ctyType(typeGob(["object", { a: "bool", b: ["list", "string"] }])))).toBe("object({a=bool, b=list(string)})");
  });

  test("an object value with nested interfaces, numbers and a null", () => {
    const v = ctyValueFromGob(valueGob(["object", { s: "string", n: "number", l: ["list", "string"], b: "bool", z: "string" }], { s: "hi", n: 7, l: ["a", "b"], b: true, z: null }));
    expect(toJson(v)).toEqual({ s: "hi", n: 7, l: ["a", "b"], b: true, z: null });
    expect(typeString(v.type)).toBe("object({b=bool, l=list(string), n=number, s=string, z=string})");
  });

  test("garbage is refused, not guessed at", () => {
    expect(() => ctyValueFromGob(hex("03 04 00 06"))).toThrow();
    expect(() => ctyValueFromGob(new Uint8Array([1, 2, 3]))).toThrow();
  });
});

describe("hcldec specs", () => {
  const spec = objectSpecGob({ name: { type: "string", required: true }, times: { type: "number" }, tags: { type: ["list", "string"] } });
  test("a ConfigSpec becomes the schema the data block is decoded with", () => {
    const schema = schemaFromConfigSpec(spec);
    expect(schema.allowUnknown).toBe(false);
    expect(schema.fields.map((f) => [f.name, f.type]).sort()).toEqual([["name", "string"], ["tags", "list(string)"], ["times", "number"]]);
    expect(schemaFromConfigSpec(spec, true).fields.filter((f) => f.required).map((f) => f.name)).toEqual(["name"]);
    expect(schema.fields.some((f) => f.required)).toBe(false);
  });
  test("an OutputSpec's implied type (the validate placeholder's)", () => {
    expect(typeString(impliedTypeOfSpec(spec))).toBe("object({name=string, tags=list(string), times=number})");
  });
});

describe("protocol v2 (--protobuf): protobuf specs, cty msgpack values", () => {
  test("an hcl_spec.proto object spec gives the same schema and implied type as its gob twin", () => {
    const attrs = { name: { type: "string" as const, required: true }, times: { type: "number" as const }, tags: { type: ["list", "string"] as ["list", "string"] } };
    const proto = objectSpecProto(attrs);
    const gob = objectSpecGob(attrs);
    const sorted = (s: ReturnType<typeof schemaFromConfigSpec>) => [...s.fields].sort((a, b) => a.name.localeCompare(b.name));
    expect(sorted(schemaFromConfigSpec(proto, true, "protobuf"))).toEqual(sorted(schemaFromConfigSpec(gob, true, "gob")));
    expect(typeString(impliedTypeOfSpec(proto, "protobuf"))).toBe(typeString(impliedTypeOfSpec(gob)));
    expect(() => schemaFromConfigSpec(new Uint8Array([0x0a, 0x05, 1]), false, "protobuf")).toThrow(/runs past the end/);
  });

  test("msgpack.Marshal(v, cty.DynamicPseudoType): the type alongside, nulls, numbers, unknowns", () => {
    const v = ctyValueFromMsgpack(valueMsgpack(["object", { s: "string", n: "number", l: ["list", "string"], z: "bool" }], { s: "hi", n: 7, l: ["a"], z: null }));
    expect(toJson(v)).toEqual({ s: "hi", n: 7, l: ["a"], z: null });
    expect(typeString(v.type)).toBe("object({l=list(string), n=number, s=string, z=bool})");
    // A number too big for an int64 or float64 travels as its decimal text; an unknown as extension 0.
    const big = ctyValueFromMsgpack(encodeMsgpack([new TextEncoder().encode('"number"'), "123456789012345678901234567890"]));
    expect(big.num.toString()).toBe("123456789012345678901234567890");
    const unknown = ctyValueFromMsgpack(encodeMsgpack([new TextEncoder().encode('"string"'), new ExtData(0, new Uint8Array(1))]));
    expect(unknown.isKnown).toBe(false);
    expect(() => ctyValueFromMsgpack(encodeMsgpack([new TextEncoder().encode('"string"'), 3]))).toThrow(/string value arrived as 3/);
  });
});

describe("Configure's cty JSON (json.Marshal(v, cty.DynamicPseudoType))", () => {
  test("value and type together; nulls left out", () => {
    const text = new TextDecoder().decode(ctyJsonDynamic({ name: "x", times: 2, on: true, list: ["a", 1], unset: null, nested: { k: "v" } }));
    expect(JSON.parse(text)).toEqual({
      value: { name: "x", times: 2, on: true, list: ["a", 1], nested: { k: "v" } },
      type: ["object", { name: "string", times: "number", on: "bool", list: ["tuple", ["string", "number"]], nested: ["object", { k: "string" }] }],
    });
  });
});
