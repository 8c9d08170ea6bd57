// format / formatlist: Go fmt-like verbs as cty implements them (%v %#v %s %q %d %b %o %x %X
// %e %E %f %g %G %t %%, flags + - # space 0, width, .precision, explicit [n] argument indexes).
import { FunctionError } from "../context.ts";
import { ConversionError, convert } from "../convert.ts";
import { T } from "../types.ts";
import { Value } from "../value.ts";
import { checkStringLength } from "../../values/limits.ts";
import { jsonEncode } from "./json-codec.ts";
import { goQuote } from "../text.ts";

export function formatString(fmt: string, args: Value[]): string {
  let out = "";
  let argi = 0;
  let used = 0;
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if (c !== "%") {
      out += c;
      i++;
      continue;
    }
    i++;
    if (fmt[i] === "%") {
      out += "%";
      i++;
      continue;
    }
    let flags = "";
    while (i < fmt.length && "+-# 0".includes(fmt[i]!)) flags += fmt[i++];
    let explicit: number | undefined;
    const idx = /^\[(\d+)\]/.exec(fmt.slice(i));
    if (idx) {
      explicit = parseInt(idx[1]!, 10);
      i += idx[0].length;
    }
    let width: number | undefined;
    const w = /^\d+/.exec(fmt.slice(i));
    if (w) {
      width = parseInt(w[0], 10);
      i += w[0].length;
    }
    let prec: number | undefined;
    if (fmt[i] === ".") {
      i++;
      const pm = /^\d*/.exec(fmt.slice(i))!;
      prec = pm[0] ? parseInt(pm[0], 10) : 0;
      i += pm[0].length;
    }
    const verb = fmt[i];
    if (verb === undefined) throw new FunctionError("unterminated format sequence at end of string");
    i++;
    if (explicit !== undefined) argi = explicit - 1;
    const arg = args[argi];
    if (!arg) {
      throw new FunctionError(`not enough arguments for "%${verb}" at ${i - 1}: need index ${argi + 1} but have ${args.length} total`);
    }
    argi++;
    used = Math.max(used, argi);
    out += pad(formatOne(verb, flags, prec, arg), width, flags, verb);
    checkStringLength(out.length, "the formatted string");
  }
  if (used < args.length) throw new FunctionError(`too many arguments; only ${used} used by format string`);
  return out;
}

function pad(s: string, width: number | undefined, flags: string, verb: string): string {
  if (width !== undefined) checkStringLength(width, `the width of "%${width}${verb}"`);
  if (width === undefined || [...s].length >= width) return s;
  const n = width - [...s].length;
  if (flags.includes("-")) return s + " ".repeat(n);
  if (flags.includes("0") && "dboxXeEfgG".includes(verb)) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : "";
    return sign + "0".repeat(n) + s.slice(sign.length);
  }
  return " ".repeat(n) + s;
}

function toStr(v: Value, verb: string): string {
  try {
    const s = convert(v, T.string);
    return s.str;
  } catch (e) {
    if (e instanceof ConversionError) throw new FunctionError(`unsupported value for "%${verb}": ${e.message}`);
    throw e;
  }
}

function toNum(v: Value, verb: string): Value {
  try {
    return convert(v, T.number);
  } catch (e) {
    if (e instanceof ConversionError) throw new FunctionError(`unsupported value for "%${verb}": ${e.message}`);
    throw e;
  }
}

function formatOne(verb: string, flags: string, prec: number | undefined, v: Value): string {
  switch (verb) {
    case "v":
      if (flags.includes("#")) return jsonEncode(v);
      if (v.isNull) return "null";
      if (v.type.kind === "string" || v.type.kind === "number" || v.type.kind === "bool") return toStr(v, verb);
      return jsonEncode(v);
    case "s": {
      const s = toStr(v, verb);
      return prec !== undefined ? [...s].slice(0, prec).join("") : s;
    }
    case "q":
      return goQuote(toStr(v, verb));
    case "t": {
      if (v.type.kind !== "bool") {
        try {
          return convert(v, T.bool).bool ? "true" : "false";
        } catch {
          throw new FunctionError(`unsupported value for "%t": bool required`);
        }
      }
      return v.bool ? "true" : "false";
    }
    case "d":
    case "b":
    case "o":
    case "x":
    case "X": {
      const n = toNum(v, verb).num;
      if (!n.isInteger()) throw new FunctionError(`unsupported value for "%${verb}": whole number required`);
      let i = n.trunc();
      const neg = i < 0n;
      if (neg) i = -i;
      const radix = verb === "d" ? 10 : verb === "b" ? 2 : verb === "o" ? 8 : 16;
      let s = i.toString(radix);
      if (verb === "X") s = s.toUpperCase();
      if (flags.includes("#")) s = (verb === "o" ? "0" : verb === "x" ? "0x" : verb === "X" ? "0X" : verb === "b" ? "0b" : "") + s;
      return (neg ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "") + s;
    }
    case "e":
    case "E":
    case "f":
    case "g":
    case "G": {
      const x = toNum(v, verb).num.toNumber();
      let s: string;
      if (verb === "f") s = x.toFixed(prec ?? 6);
      else if (verb === "e" || verb === "E") s = goExp(x.toExponential(prec ?? 6));
      else s = goG(x, prec);
      if (verb === "E" || verb === "G") s = s.toUpperCase();
      if (x >= 0 && flags.includes("+")) s = "+" + s;
      else if (x >= 0 && flags.includes(" ")) s = " " + s;
      return s;
    }
    default:
      throw new FunctionError(`unsupported format verb ${JSON.stringify(verb)} in format string`);
  }
}

/** JS exponent "e+6" → Go "e+06". */
function goExp(s: string): string {
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

function goG(x: number, prec: number | undefined): string {
  if (x === 0) return "0";
  if (prec === undefined) {
    const exp = Math.floor(Math.log10(Math.abs(x)));
    const shortest = String(x);
    const digits = shortest.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "").length;
    const eprec = Math.max(digits, 21) === 21 && digits <= 21 ? 21 : digits;
    if (exp < -4 || exp >= eprec) return goExp(x.toExponential());
    return shortest.includes("e") ? x.toFixed(Math.max(0, -exp + digits - 1)) : shortest;
  }
  const p = prec === 0 ? 1 : prec;
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= p) return goExp(x.toExponential(p - 1).replace(/\.?0+e/, "e"));
  return String(Number(x.toPrecision(p)));
}

