// The one reading of a verb's flags (cmd/resolve.ts parseFlags), against the build verb's real
// declaration: every value of a repeated flag in order, in each form Packer users type, a separate
// value taken whatever it looks like, and the first undeclared flag named as Go names it.
import { expect, test } from "bun:test";
import type { CommandDef } from "citty";
import { normalizeGoFlags } from "../../../cmd/args.ts";
import { parseVars } from "../../../cmd/flags.ts";
import { parseFlags } from "../../../cmd/resolve.ts";
import build from "../../../cmd/build.ts";

const read = (argv: string[]) => parseFlags(build as CommandDef, normalizeGoFlags(argv));

test("-var repeated in each form, -var-file repeated, -only lists; all in order", async () => {
  const flags = await read(["-var", "a=b", "-var=c=d=e", "--var", "f=", "-var-file=x.json", "-var-file", "y.hcl", "-only=a,b", "-only", "c", "t.json"]);
  expect(parseVars(flags)).toEqual([
    ["a", "b"],
    ["c", "d=e"],
    ["f", ""],
  ]);
  expect(flags.all("var-file")).toEqual(["x.json", "y.hcl"]);
  expect(flags.list("only")).toEqual(["a", "b", "c"]);
  expect(flags.unknown).toBeUndefined();
});

test("a separate value is taken as it is; booleans take =false; -- ends the flags", async () => {
  const flags = await read(["-var", "region=-x", "-color=false", "-force", "t.json", "--", "-var", "z=1"]);
  expect(flags.all("var")).toEqual(["region=-x"]);
  expect(flags.all("color")).toEqual(["false"]);
  expect(flags.all("force")).toEqual(["true"]);
});

test("the first undeclared flag is named as Go names it; a -var without = is refused", async () => {
  expect((await read(["-var", "a=b", "-var-flie=prod.json", "t.json"])).unknown).toBe("-var-flie");
  const noValue = await read(["-var", "novalue", "t.json"]);
  expect(() => parseVars(noValue)).toThrow('-var "novalue": expected the form key=value');
});

test("booleans read as Go's flag package reads them; positionals are what is neither flag nor value", async () => {
  const flags = await read(["-color=F", "-force", "-force=0", "t.json", "-var", "a=b", "-", "--", "-x", "y"]);
  expect(flags.bool("color", true)).toBe(false);
  expect(flags.bool("force", true)).toBe(false); // the last one wins
  expect(flags.bool("debug", true)).toBe(true); // not given: the default
  expect(flags.positionals).toEqual(["t.json", "-", "-x", "y"]);
  const bad = await read(["-force=maybe", "t.json"]);
  expect(() => bad.bool("force", false)).toThrow('invalid boolean value "maybe" for -force: parse error');
});
