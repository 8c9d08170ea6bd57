// String functions (cty stdlib semantics; lengths and offsets count grapheme clusters).
import type { HclFunction } from "../context.ts";
import { T } from "../types.ts";
import { V, Value } from "../value.ts";
import { checkStringLength } from "../../values/limits.ts";
import { formatString } from "./format.ts";
import { FunctionError, fn, graphemes, int, isSeq, listOf, listOfString, p } from "./helpers.ts";

const s1 = (f: (s: string) => string): HclFunction => fn([p("str", T.string)], ([a]) => V.string(f(a!.str)), { returnType: () => T.string });

/** Go regexp (RE2) → JS RegExp: named groups (?P<n>) and inline flags at the start. */
export function goRegexp(pattern: string, global = false): RegExp {
  let src = pattern.replace(/\(\?P</g, "(?<");
  let flags = global ? "gu" : "u";
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m) {
    src = src.slice(m[0].length);
    for (const f of m[1]!) if (f !== "U" && !flags.includes(f)) flags += f;
  }
  try {
    return new RegExp(src, flags);
  } catch (e) {
    throw new FunctionError(`invalid regular expression pattern: ${(e as Error).message}`, 0);
  }
}

function matchValue(re: RegExp, m: RegExpExecArray): Value {
  const names = m.groups ? Object.keys(m.groups) : [];
  if (names.length > 0) {
    const o = new Map<string, Value>();
    for (const n of names) o.set(n, V.string(m.groups![n] ?? ""));
    return V.object(o);
  }
  if (m.length > 1) return V.tuple(m.slice(1).map((g) => V.string(g ?? "")));
  void re;
  return V.string(m[0]);
}

/** Expands Go-style replacement templates ($1, ${1}, $name, ${name}, $$). */
function goExpand(tmpl: string, m: RegExpExecArray): string {
  return tmpl.replace(/\$(\$|\{([^}]*)\}|([A-Za-z0-9_]+))/g, (_all, tok: string, braced?: string, bare?: string) => {
    if (tok === "$") return "$";
    const name = braced ?? bare ?? "";
    if (/^\d+$/.test(name)) return m[parseInt(name, 10)] ?? "";
    return m.groups?.[name] ?? "";
  });
}

export function regexReplace(s: string, pattern: string, repl: string): string {
  const re = goRegexp(pattern, true);
  let out = "";
  let last = 0;
  for (const m of s.matchAll(re)) {
    out += s.slice(last, m.index) + goExpand(repl, m as RegExpExecArray);
    last = m.index! + m[0].length;
  }
  return out + s.slice(last);
}

const isSpace = (c: string) => /\s/u.test(c);

export const stringFunctions: Record<string, HclFunction> = {
  chomp: s1((s) => s.replace(/(?:\r\n?|\n)*$/, "")),
  lower: s1((s) => s.toLowerCase()),
  upper: s1((s) => s.toUpperCase()),
  title: s1((s) => s.replace(/(^|[^\p{L}\p{N}_])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase())),
  strrev: s1((s) => graphemes(s).reverse().join("")),
  trimspace: s1((s) => s.replace(/^\s+|\s+$/gu, "")),
  trim: fn([p("str", T.string), p("cutset", T.string)], ([a, b]) => {
    const cut = new Set([...b!.str]);
    const chars = [...a!.str];
    let i = 0;
    let j = chars.length;
    while (i < j && cut.has(chars[i]!)) i++;
    while (j > i && cut.has(chars[j - 1]!)) j--;
    return V.string(chars.slice(i, j).join(""));
  }),
  trimprefix: fn([p("str", T.string), p("prefix", T.string)], ([a, b]) =>
    V.string(a!.str.startsWith(b!.str) ? a!.str.slice(b!.str.length) : a!.str),
  ),
  trimsuffix: fn([p("str", T.string), p("suffix", T.string)], ([a, b]) =>
    V.string(b!.str !== "" && a!.str.endsWith(b!.str) ? a!.str.slice(0, a!.str.length - b!.str.length) : a!.str),
  ),
  indent: fn([p("spaces", T.number), p("str", T.string)], ([n, s]) => {
    const spaces = Math.max(0, int(n!, 0));
    const lines = s!.str.split("\n").length - 1;
    checkStringLength(s!.str.length + lines * spaces, "the indented string");
    const pad = " ".repeat(spaces);
    return V.string(s!.str.replace(/\n/g, "\n" + pad));
  }),
  join: fn(
    [p("separator", T.string)],
    ([sep, ...lists]) => {
      if (lists.length === 0) throw new FunctionError("at least one list is required");
      const items: string[] = [];
      lists.forEach((l, li) => {
        for (const e of l!.elems) {
          if (e.isNull) throw new FunctionError(`element ${items.length} of list ${li} is null; cannot concatenate null values`, li + 1);
          items.push(e.str);
        }
      });
      let length = sep!.str.length * Math.max(0, items.length - 1);
      for (const it of items) length += it.length;
      checkStringLength(length, "the joined string");
      return V.string(items.join(sep!.str));
    },
    { varParam: p("lists", T.list(T.string)), returnType: () => T.string },
  ),
  split: fn([p("separator", T.string), p("str", T.string)], ([sep, s]) => {
    const parts = sep!.str === "" ? [...s!.str] : s!.str.split(sep!.str);
    return V.list(parts.map(V.string), T.string);
  }),
  replace: fn([p("str", T.string), p("substr", T.string), p("replace", T.string)], ([s, sub, r]) => {
    const pat = sub!.str;
    if (pat.length > 1 && pat.startsWith("/") && pat.endsWith("/")) return V.string(regexReplace(s!.str, pat.slice(1, -1), r!.str));
    const parts = s!.str.split(pat);
    checkStringLength(s!.str.length + (parts.length - 1) * (r!.str.length - pat.length), "the replaced string");
    return V.string(parts.join(r!.str));
  }),
  regex_replace: fn([p("str", T.string), p("substr", T.string), p("replace", T.string)], ([s, pat, r]) =>
    V.string(regexReplace(s!.str, pat!.str, r!.str)),
  ),
  regex: fn([p("pattern", T.string), p("string", T.string)], ([pat, s]) => {
    const re = goRegexp(pat!.str);
    const m = re.exec(s!.str);
    if (!m) throw new FunctionError("pattern did not match any part of the given string");
    return matchValue(re, m);
  }),
  regexall: fn([p("pattern", T.string), p("string", T.string)], ([pat, s]) => {
    const re = goRegexp(pat!.str, true);
    const out = [...s!.str.matchAll(re)].map((m) => matchValue(re, m as RegExpExecArray));
    return listOf(out);
  }),
  substr: fn([p("str", T.string), p("offset", T.number), p("length", T.number)], ([s, o, l]) => {
    const g = graphemes(s!.str);
    let off = int(o!, 1, "offset");
    let len = int(l!, 2, "length");
    if (off < 0) off = g.length + off;
    if (off < 0) off = 0;
    if (off > g.length) throw new FunctionError("offset out of range", 1);
    if (len < 0) len = g.length - off;
    return V.string(g.slice(off, off + len).join(""));
  }),
  format: fn([p("format", T.string)], ([f, ...args]) => V.string(formatString(f!.str, args)), {
    varParam: p("args", T.dynamic, { allowNull: true }),
    returnType: () => T.string,
  }),
  formatlist: fn(
    [p("format", T.string)],
    ([f, ...args]) => {
      let n: number | undefined;
      args.forEach((a, i) => {
        if (isSeq(a)) {
          if (n !== undefined && n !== a.elems.length) {
            throw new FunctionError(`argument ${i + 1} has length ${a.elems.length}, which is inconsistent with argument ${i} of length ${n}`, i + 1);
          }
          n = a.elems.length;
        }
      });
      const count = n ?? 1;
      const out: Value[] = [];
      for (let k = 0; k < count; k++) {
        out.push(V.string(formatString(f!.str, args.map((a) => (isSeq(a) ? a.elems[k]! : a)))));
      }
      return V.list(out, T.string);
    },
    { varParam: p("args", T.dynamic, { allowNull: true }), returnType: () => listOfString },
  ),
};

export { isSpace };
