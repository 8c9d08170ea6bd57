// Numeric functions. Exact where cty is exact (abs, ceil, floor, min, max, signum, parseint);
// log and pow go through float64 like Go's math package.
import type { HclFunction } from "../context.ts";
import { Num } from "../num.ts";
import { T } from "../types.ts";
import { V } from "../value.ts";
import { FunctionError, fn, int, p } from "./helpers.ts";

const n1 = (f: (n: Num) => Num) => fn([p("num", T.number)], ([a]) => V.number(f(a!.num)), { returnType: () => T.number });

export const numericFunctions: Record<string, HclFunction> = {
  abs: n1((n) => n.abs()),
  ceil: n1((n) => Num.fromBigInt(n.ceil())),
  floor: n1((n) => Num.fromBigInt(n.floor())),
  signum: n1((n) => Num.fromBigInt(BigInt(n.sign()))),
  log: fn([p("num", T.number), p("base", T.number)], ([a, b]) => {
    const r = Math.log(a!.num.toNumber()) / Math.log(b!.num.toNumber());
    if (!Number.isFinite(r)) throw new FunctionError("result is not a finite number");
    return V.number(r);
  }),
  pow: fn([p("num", T.number), p("power", T.number)], ([a, b]) => {
    const pw = b!.num;
    if (pw.isInteger() && pw.sign() >= 0 && a!.num.isInteger() && (pw.toSafeInteger() ?? 10000) < 4096) {
      return V.number(a!.num.trunc() ** pw.trunc());
    }
    const r = Math.pow(a!.num.toNumber(), pw.toNumber());
    if (!Number.isFinite(r)) throw new FunctionError("result is not a finite number");
    return V.number(r);
  }),
  max: fn(
    [],
    (args) => {
      if (args.length === 0) throw new FunctionError("must pass at least one number");
      return V.number(args.map((a) => a.num).reduce((m, x) => (x.cmp(m) > 0 ? x : m)));
    },
    { varParam: p("numbers", T.number) },
  ),
  min: fn(
    [],
    (args) => {
      if (args.length === 0) throw new FunctionError("must pass at least one number");
      return V.number(args.map((a) => a.num).reduce((m, x) => (x.cmp(m) < 0 ? x : m)));
    },
    { varParam: p("numbers", T.number) },
  ),
  parseint: fn([p("number", T.string), p("base", T.number)], ([s, b]) => {
    const base = int(b!, 1, "base");
    if (base < 2 || base > 62) throw new FunctionError("base must be a whole number between 2 and 62 inclusive", 1);
    let text = s!.str;
    let neg = false;
    if (text.startsWith("-") || text.startsWith("+")) {
      neg = text[0] === "-";
      text = text.slice(1);
    }
    const digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (text === "") throw new FunctionError(`cannot parse ${JSON.stringify(s!.str)} as a base ${base} integer`, 0);
    let acc = 0n;
    for (const c of text) {
      let d = digits.indexOf(c);
      if (base <= 36 && d >= 36) d -= 26;
      if (d < 0 || d >= base) throw new FunctionError(`cannot parse ${JSON.stringify(s!.str)} as a base ${base} integer`, 0);
      acc = acc * BigInt(base) + BigInt(d);
    }
    return V.number(neg ? -acc : acc);
  }),
};
