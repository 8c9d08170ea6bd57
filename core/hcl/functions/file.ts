// File-system functions. Relative paths resolve against the caller's base directory (the
// template's folder), except abspath which uses the working directory as Go's filepath.Abs does.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { EvalContext, type HclFunction } from "../context.ts";
import { NativeExpression } from "../body.ts";
import { parseTemplateNode } from "../parser.ts";
import { nodeVariables } from "../variables.ts";
import type { Diagnostic, SourceRange } from "../../errors/diagnostic.ts";
import { T } from "../types.ts";
import { V, Value } from "../value.ts";
import { FunctionError, fn, p, setOf } from "./helpers.ts";

/** Go's filepath.Clean for slash paths. */
export function cleanPath(path: string): string {
  if (path === "") return ".";
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(part);
  }
  const s = (abs ? "/" : "") + out.join("/");
  return s === "" ? "." : s;
}

export function goBase(path: string): string {
  if (path === "") return ".";
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export function goDir(path: string): string {
  const i = path.lastIndexOf("/");
  return cleanPath(path.slice(0, i + 1));
}

function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return path;
}

function readUtf8(baseDir: string, path: string): string {
  const full = resolve(baseDir, expandHome(path));
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw new FunctionError(`no file exists at ${path}`, 0);
  }
  const bytes = readFileSync(full);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FunctionError(`contents of ${path} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead`, 0);
  }
}

/** Converts a doublestar glob (`*`, `**`, `?`, `[..]`, `{a,b}`) to a RegExp over slash paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const slashAfter = glob[i + 2] === "/";
        re += slashAfter ? "(?:.*/)?" : ".*";
        i += slashAfter ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) throw new FunctionError(`failed to glob pattern (${glob}): syntax error in pattern`, 1);
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith("!")) cls = "^" + cls.slice(1);
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "{") {
      const end = glob.indexOf("}", i + 1);
      if (end < 0) throw new FunctionError(`failed to glob pattern (${glob}): syntax error in pattern`, 1);
      re += "(?:" + glob.slice(i + 1, end).split(",").map((a) => a.replace(/[.+^$()|\\]/g, "\\$&").replace(/\*/g, "[^/]*")).join("|") + ")";
      i = end;
    } else if (c === "\\" && i + 1 < glob.length) {
      re += "\\" + glob[++i];
    } else re += c.replace(/[.+^$()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function walkFiles(root: string, rel = "", out: string[] = [], depth = 0): string[] {
  if (depth > 64) return out;
  let entries: string[];
  try {
    entries = readdirSync(join(root, rel)).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e}` : e;
    let st;
    try {
      st = statSync(join(root, r));
    } catch {
      continue;
    }
    if (st.isDirectory()) walkFiles(root, r, out, depth + 1);
    else if (st.isFile()) out.push(r);
  }
  return out;
}

export interface FileFunctionOptions {
  baseDir: string;
  /** Functions available inside templatefile() templates. */
  templateFunctions: () => Record<string, HclFunction>;
}

export function fileFunctions(opts: FileFunctionOptions): Record<string, HclFunction> {
  const { baseDir } = opts;
  const templatefile: HclFunction = fn([p("path", T.string), p("vars", T.dynamic)], ([path, vars]) => {
    const src = readUtf8(baseDir, path!.str);
    // Diagnostics name the file as the caller wrote it, like HCL's templatefile.
    const parsed = parseTemplateNode(src, path!.str);
    if (parsed.diagnostics.length) throw new FunctionError(diagText(parsed.diagnostics));
    const v = vars!;
    if (v.type.kind !== "map" && v.type.kind !== "object") throw new FunctionError("invalid vars value: must be a map", 1);
    const variables: Record<string, Value> = {};
    for (const [k, e] of v.attrs) {
      if (!/^[\p{ID_Start}_][\p{ID_Continue}-]*$/u.test(k)) throw new FunctionError(`invalid template variable name ${JSON.stringify(k)}: must start with a letter, followed by zero or more letters, digits, and underscores`, 1);
      variables[k] = e;
    }
    // References are checked up front so a missing key names the vars argument, not an unknown variable.
    for (const t of nodeVariables(parsed.node)) {
      if (!Object.hasOwn(variables, t.root)) {
        throw new FunctionError(`vars map does not contain key ${JSON.stringify(t.root)}, referenced at ${rangeText(t.rootRange)}`, 1);
      }
    }
    const funcs = { ...opts.templateFunctions() };
    funcs.templatefile = fn([p("path", T.string), p("vars", T.dynamic)], () => {
      throw new FunctionError("cannot recursively call templatefile from inside templatefile call");
    });
    const r = new NativeExpression(parsed.node).evaluate(new EvalContext(variables, funcs));
    if (r.diagnostics.length) throw new FunctionError(diagText(r.diagnostics));
    // The result is not converted: a template that is a single interpolation yields that value as-is.
    return r.value;
  });
  return {
    abspath: fn([p("path", T.string)], ([s]) => V.string(cleanPath(resolve(process.cwd(), s!.str)))),
    basename: fn([p("path", T.string)], ([s]) => V.string(goBase(s!.str))),
    dirname: fn([p("path", T.string)], ([s]) => V.string(goDir(s!.str))),
    pathexpand: fn([p("path", T.string)], ([s]) => V.string(expandHome(s!.str))),
    file: fn([p("path", T.string)], ([s]) => V.string(readUtf8(baseDir, s!.str))),
    fileexists: fn([p("path", T.string)], ([s]) => {
      const full = resolve(baseDir, expandHome(s!.str));
      if (!existsSync(full)) return V.false;
      const st = statSync(full);
      if (st.isFile()) return V.true;
      throw new FunctionError(`${s!.str} is not a regular file, but ${st.isDirectory() ? "a directory" : "another kind of file"}`, 0);
    }),
    fileset: fn([p("path", T.string), p("pattern", T.string)], ([dir, pattern]) => {
      const root = isAbsolute(dir!.str) ? dir!.str : resolve(baseDir, dir!.str);
      const re = globToRegExp(pattern!.str);
      const matches = walkFiles(root).filter((f) => re.test(f));
      return setOf(matches.map(V.string), T.string);
    }),
    templatefile,
  };
}

/** A range as HCL prints it: "file:line,col-endcol", or "file:line,col-endline,endcol" across lines. */
function rangeText(r: SourceRange): string {
  const end = r.start.line === r.end.line ? `${r.end.column}` : `${r.end.line},${r.end.column}`;
  return `${r.filename}:${r.start.line},${r.start.column}-${end}`;
}

/** Diagnostics as HCL's Diagnostics.Error() renders them. */
function diagText(diags: Diagnostic[]): string {
  const one = (d: Diagnostic) => `${d.range ? `${rangeText(d.range)}: ` : ""}${d.summary}${d.detail ? `; ${d.detail}` : ""}`;
  if (diags.length === 1) return one(diags[0]!);
  return `${one(diags[0]!)}, and ${diags.length - 1} other diagnostic(s)`;
}
