import { describe, expect, test } from "bun:test";
import { highestSatisfying, parseConstraint, satisfies, type Constraint } from "../../core/registry/constraints.ts";
import { isValidPluginName } from "../../core/registry/names.ts";
import { compareSemVer, parseSemVer } from "../../core/registry/semver.ts";

function c(text: string): Constraint {
  const r = parseConstraint(text);
  if ("error" in r) throw new Error(r.error);
  return r;
}
const ok = (constraint: string, version: string) => satisfies(c(constraint), parseSemVer(version) ?? (() => { throw new Error(version); })());

describe("constraints (Packer/Terraform syntax)", () => {
  test.each([
    [">= 1.2", "1.2.0", true],
    [">= 1.2", "1.1.9", false],
    ["~> 1.2", "1.9.0", true],
    ["~> 1.2", "2.0.0", false],
    ["~> 1.2.0", "1.2.9", true],
    ["~> 1.2.0", "1.3.0", false],
    ["~> 1", "3.0.0", true],
    ["= 1.0.0", "1.0.0", true],
    ["1.0.0", "1.0.1", false],
    ["!= 1.0.1", "1.0.1", false],
    [">= 1.0, < 2.0, != 1.5.0", "1.5.0", false],
    [">= 1.0, < 2.0, != 1.5.0", "1.6.0", true],
    ["> 1.0.0", "1.0.0", false],
    ["<= 1.0", "1.0.0", true],
    ["", "7.0.0", true],
    [">= 1.0", "1.1.0-beta.1", false],
    ["= 1.1.0-beta.1", "1.1.0-beta.1", true],
    [">= 1.0, = 1.1.0-beta.1", "1.1.0-beta.1", true],
    ["~> 1.1.0-beta.1", "1.1.0-beta.2", false],
  ])("%p matches %p: %p", (constraint, version, expected) => {
    expect(ok(constraint, version)).toBe(expected);
  });

  test("malformed constraints are reported", () => {
    expect(parseConstraint(">= x")).toEqual({ error: 'malformed version constraint term ">= x"' });
    expect(parseConstraint("=> 1.0")).toHaveProperty("error");
  });

  test("highest satisfying picks by semver order, not text order", () => {
    expect(highestSatisfying(c("~> 1.0"), ["1.9.0", "1.10.0", "1.2.0", "2.0.0", "1.11.0-rc.1"])).toBe("1.10.0");
    expect(highestSatisfying(c(">= 3"), ["1.0.0"])).toBeUndefined();
  });
});

describe("semver", () => {
  test("pre-release ordering follows semver 2.0.0", () => {
    const order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"];
    for (let i = 1; i < order.length; i++) {
      const a = parseSemVer(order[i - 1] as string);
      const b = parseSemVer(order[i] as string);
      if (!a || !b) throw new Error("parse");
      expect(compareSemVer(a, b)).toBe(-1);
    }
    expect(parseSemVer("01.0.0")).toBeUndefined();
    expect(parseSemVer("1.0")).toBeUndefined();
  });
});

describe("plugin names", () => {
  test.each([
    ["acme/hello", true],
    ["a/b", true],
    ["acme-corp/hello-world2", true],
    ["../etc", false],
    ["acme/..", false],
    ["acme/../x", false],
    ["acme/hello/x", false],
    ["Acme/hello", false],
    ["acme/-x", false],
    ["acme/x-", false],
    ["acme/a--b", false],
    ["acme\\hello", false],
    ["acme/he%2fllo", false],
    ["acme/.hidden", false],
    ["/hello", false],
    [`acme/${"x".repeat(65)}`, false],
  ])("%p valid: %p", (name, expected) => {
    expect(isValidPluginName(name)).toBe(expected);
  });
});
