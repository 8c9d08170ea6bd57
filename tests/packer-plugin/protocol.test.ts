// The protocol pieces on their own, against the byte examples their specifications give; the
// end-to-end behaviour against packer 1.6.6 is in tests/e2e/packer-plugin.test.ts.
import { describe, expect, test } from "bun:test";
import { decodeGob, decodeGobValue, GobError } from "../../core/packer-plugin/gob.ts";
import { parseHandshake } from "../../core/packer-plugin/process.ts";
import { splitMultiError } from "../../core/packer-plugin/builder.ts";
import { componentTypes } from "../../core/packer-plugin/discover.ts";
import { parsePackerSource } from "../../core/packer-plugin/install.ts";

const hex = (s: string) => new Uint8Array(s.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));

describe("gob (examples from Go's encoding/gob doc.go)", () => {
  test("Point{22, 33} with its type definition, then again without", () => {
    const first = "1f ff 81 03 01 01 05 50 6f 69 6e 74 01 ff 82 00 01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00 07 ff 82 01 2c 01 42 00";
    expect(decodeGob(hex(`${first} 07 ff 82 01 2c 01 42 00`))).toEqual([{ X: 22, Y: 33 }, { X: 22, Y: 33 }]);
  });
  test("a top-level int, and a zero field omitted", () => {
    expect(decodeGobValue(hex("03 04 00 06"))).toBe(3);
    // CommandFinished{ExitStatus: 0}: the struct carries no field at all.
    const def = "1f ff 81 03 01 01 05 50 6f 69 6e 74 01 ff 82 00 01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00";
    expect(decodeGobValue(hex(`${def} 03 ff 82 00`))).toEqual({});
  });
  test("negative ints and truncated data", () => {
    expect(decodeGobValue(hex("05 04 00 fe 01 01"))).toBe(-129);
    expect(() => decodeGob(hex("07 ff 82 01 2c"))).toThrow(GobError);
  });
});

describe("handshake lines", () => {
  test("legacy and SDK forms", () => {
    expect(parseHandshake("5|unix|/tmp/packer-plugin1")).toEqual({ version: "5", network: "unix", address: "/tmp/packer-plugin1" });
    expect(parseHandshake("5|1|unix|/tmp/p|grpc")).toEqual({ version: "5.1", network: "unix", address: "/tmp/p" });
    expect(parseHandshake("5|0|tcp|127.0.0.1:10000")).toEqual({ version: "5.0", network: "tcp", address: "127.0.0.1:10000" });
  });
  test("other versions and garbage are refused with the line", () => {
    expect(parseHandshake("4|unix|/x")).toEqual({ error: "speaks plugin API 4, imgb speaks 5.0 and 5.1 (line: 4|unix|/x)" });
    expect(parseHandshake("6|0|unix|/x")).toHaveProperty("error");
    expect(parseHandshake("hello")).toEqual({ error: 'unrecognized handshake line: "hello"' });
    expect(parseHandshake("5|pipe|/x")).toHaveProperty("error");
  });
});

describe("Packer's names and messages", () => {
  test("both multierror forms; anything else is one error", () => {
    expect(splitMultiError("2 errors occurred:\n\t* a\n\t* b\n  continued\n\n")).toEqual(["a", "b\n  continued"]);
    expect(splitMultiError("2 error(s) occurred:\n\n* x\n* y")).toEqual(["x", "y"]);
    expect(splitMultiError("plain failure\n")).toEqual(["plain failure"]);
  });
  test("multi-component types and sources", () => {
    expect([...componentTypes("amazon", ["ebs", "-packer-default-plugin-name-"])]).toEqual([["amazon-ebs", "ebs"], ["amazon", "-packer-default-plugin-name-"]]);
    expect(parsePackerSource("github.com/hashicorp/amazon")).toEqual({ host: "github.com", owner: "hashicorp", name: "amazon" });
    expect(parsePackerSource("hashicorp/amazon")).toBeUndefined();
  });
});
