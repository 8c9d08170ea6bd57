// text/template's predefined functions that Packer templates can reach (Go adds them to every
// template): not, len, index, print, printf, println, eq, ne, lt, le, gt, ge, html, urlquery.
// `and`/`or` are evaluated lazily in exec.ts.
import { checkStringLength } from "../../values/limits.ts";
import { FuncError } from "./errors.ts";
import type { TemplateFunc } from "./exec.ts";
import { goNumber, goPrint, goTruth, goTypeName, type GoValue } from "./values.ts";

function basicKind(v: GoValue): "string" | "number" | "bool" | "nil" | "other" {
  if (v === undefined || v === null) return "nil";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  return "other";
}

function compare(a: GoValue, b: GoValue, ordered: boolean): number {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === "other" || kb === "other") {
    if (ordered) throw new FuncError("invalid type for comparison");
    throw new FuncError("non-comparable types");
  }
  if (ka !== kb) {
    if (ka === "nil" || kb === "nil") {
      if (ordered) throw new FuncError("invalid type for comparison");
      return 1;
    }
    throw new FuncError("incompatible types for comparison");
  }
  if (ka === "bool" && ordered) throw new FuncError("invalid type for comparison");
  if (a === b) return 0;
  if (ka === "nil") return 0;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

/** fmt.Sprint: spaces between operands when neither is a string. */
function sprint(args: GoValue[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += goPrint(a) === "<no value>" ? "<nil>" : goPrint(a);
  });
  return out;
}

/** A subset of fmt.Sprintf: %s %v %d %q %x %X %f %t %%. */
function sprintf(format: string, args: GoValue[]): string {
  let k = 0;
  return format.replace(/%([-+# 0]*)(\d*)(?:\.(\d+))?([svdqxXft%])/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === "%") return "%";
    if (k >= args.length) return `%!${verb}(MISSING)`;
    const a = args[k++];
    let s: string;
    switch (verb) {
      case "d":
        s = typeof a === "number" ? String(Math.trunc(a)) : `%!d(${goTypeName(a)}=${goPrint(a)})`;
        break;
      case "f":
        if (prec !== undefined && Number(prec) > 100) throw new FuncError(`precision ${prec} of %f is over 100`);
        s = typeof a === "number" ? a.toFixed(prec === undefined ? 6 : Number(prec)) : `%!f(${goTypeName(a)}=${goPrint(a)})`;
        break;
      case "q":
        s = JSON.stringify(typeof a === "string" ? a : goPrint(a));
        break;
      case "x":
      case "X": {
        const hex =
          typeof a === "number"
            ? Math.trunc(a).toString(16)
            : Array.from(new TextEncoder().encode(typeof a === "string" ? a : goPrint(a)), (b) => b.toString(16).padStart(2, "0")).join("");
        s = verb === "X" ? hex.toUpperCase() : hex;
        break;
      }
      case "t":
        s = typeof a === "boolean" ? String(a) : `%!t(${goTypeName(a)}=${goPrint(a)})`;
        break;
      default:
        s = typeof a === "number" ? goNumber(a) : a === undefined || a === null ? "<nil>" : goPrint(a);
    }
    const w = Number(width || 0);
    checkStringLength(w, `the width of %${width}${verb}`);
    if (s.length < w) s = flags.includes("-") ? s.padEnd(w) : s.padStart(w, flags.includes("0") && verb !== "s" ? "0" : " ");
    return s;
  });
}

function lengthOf(v: GoValue): number {
  if (typeof v === "string") return new TextEncoder().encode(v).length;
  if (Array.isArray(v)) return v.length;
  if (v !== null && typeof v === "object") return Object.keys(v).length;
  throw new FuncError(`len of type ${goTypeName(v)}`);
}

function indexInto(v: GoValue, keys: GoValue[]): GoValue {
  let cur = v;
  for (const key of keys) {
    if (Array.isArray(cur)) {
      if (typeof key !== "number" || !Number.isInteger(key)) throw new FuncError(`cannot index slice/array with type ${goTypeName(key)}`);
      if (key < 0 || key >= cur.length) throw new FuncError(`index out of range: ${key}`);
      cur = cur[key];
    } else if (cur !== null && typeof cur === "object") {
      if (typeof key !== "string") throw new FuncError(`value has type ${goTypeName(key)}; should be string`);
      cur = Object.hasOwn(cur, key) ? cur[key] : undefined;
    } else if (typeof cur === "string") {
      if (typeof key !== "number" || !Number.isInteger(key)) throw new FuncError(`cannot index string with type ${goTypeName(key)}`);
      const bytes = new TextEncoder().encode(cur);
      if (key < 0 || key >= bytes.length) throw new FuncError(`index out of range: ${key}`);
      cur = bytes[key] as number;
    } else if (cur === undefined || cur === null) {
      throw new FuncError("index of untyped nil");
    } else throw new FuncError(`can't index item of type ${goTypeName(cur)}`);
  }
  return cur;
}

const HTML_ESCAPES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\uFFFD" };

export const BUILTINS: ReadonlyMap<string, TemplateFunc> = new Map<string, TemplateFunc>([
  ["not", { params: ["any"], call: ([a]) => !goTruth(a) }],
  ["len", { params: ["any"], call: ([a]) => lengthOf(a) }],
  ["index", { params: ["any"], variadic: "any", call: ([v, ...keys]) => indexInto(v, keys) }],
  ["print", { params: [], variadic: "any", call: (args) => sprint(args) }],
  ["println", { params: [], variadic: "any", call: (args) => `${args.map((a) => (a === undefined || a === null ? "<nil>" : goPrint(a))).join(" ")}\n` }],
  ["printf", { params: ["string"], variadic: "any", call: ([f, ...args]) => sprintf(f as string, args) }],
  ["eq", { params: ["any"], variadic: "any", call: ([a, ...rest]) => {
    if (rest.length === 0) throw new FuncError("missing argument for comparison");
    return rest.some((b) => compare(a, b, false) === 0);
  } }],
  ["ne", { params: ["any", "any"], call: ([a, b]) => compare(a, b, false) !== 0 }],
  ["lt", { params: ["any", "any"], call: ([a, b]) => compare(a, b, true) < 0 }],
  ["le", { params: ["any", "any"], call: ([a, b]) => compare(a, b, true) <= 0 }],
  ["gt", { params: ["any", "any"], call: ([a, b]) => compare(a, b, true) > 0 }],
  ["ge", { params: ["any", "any"], call: ([a, b]) => compare(a, b, true) >= 0 }],
  ["html", { params: [], variadic: "any", call: (args) => sprint(args).replace(/[<>&'"\0]/g, (c) => HTML_ESCAPES[c] ?? c) }],
  ["urlquery", { params: [], variadic: "any", call: (args) => encodeURIComponent(sprint(args)).replace(/%20/g, "+").replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) }],
]);
