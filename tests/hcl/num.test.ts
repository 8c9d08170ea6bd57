// Numbers: cty's 512-bit binary big.Float semantics.
import { describe, expect, test } from "bun:test";
import { Num } from "../../core/hcl/num.ts";

const n = (s: string) => Num.parse(s)!;

describe("Num", () => {
  test("integer arithmetic is exact below 2^512", () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return BigInt(seed) * BigInt(seed) * BigInt(seed) - 2n ** 80n;
    };
    for (let i = 0; i < 200; i++) {
      const a = rnd();
      const b = rnd();
      expect(Num.fromBigInt(a).add(Num.fromBigInt(b)).toString()).toBe((a + b).toString());
      expect(Num.fromBigInt(a).mul(Num.fromBigInt(b)).toString()).toBe((a * b).toString());
      expect(Num.fromBigInt(a).sub(Num.fromBigInt(b)).cmp(Num.fromBigInt(a - b))).toBe(0);
    }
  });
  test("decimal text round-trips through the shortest form", () => {
    for (const s of ["0.1", "3.2", "-1.5", "123456789.000000001", "1e-20", "2.5e30", "0.30000000000000004"]) {
      const v = n(s);
      expect(Num.parse(v.toString())!.eq(v)).toBe(true);
    }
    expect(n("1e-20").toString()).toBe("0.00000000000000000001");
    expect(n("2.5e3").toString()).toBe("2500");
    expect(n("0.1").add(n("0.2")).toString()).toBe("0.3");
  });
  test("division rounds to 512 bits, modulo follows cty (|a - b*trunc(a/b)|)", () => {
    expect(n("1").div(n("3")).mul(n("3")).toString()).toBe("1");
    expect(n("11").mod(n("5")).toString()).toBe("1");
    expect(n("-11").mod(n("5")).toString()).toBe("1");
    expect(() => n("1").div(n("0"))).toThrow("division by zero");
  });
  test("trunc, floor, ceil, comparisons", () => {
    expect(n("-2.5").trunc()).toBe(-2n);
    expect(n("-2.5").floor()).toBe(-3n);
    expect(n("2.1").ceil()).toBe(3n);
    expect(n("2").ceil()).toBe(2n);
    expect(n("1.0000000000000000000000000001").cmp(n("1"))).toBe(1);
    expect(n("5").toSafeInteger()).toBe(5);
    expect(n("5.5").toSafeInteger()).toBeUndefined();
  });
  test("malformed literals", () => {
    expect(Num.parse("1.")).toBeUndefined();
    expect(Num.parse("abc")).toBeUndefined();
    expect(Num.parse(".5")!.toString()).toBe("0.5");
  });
});
