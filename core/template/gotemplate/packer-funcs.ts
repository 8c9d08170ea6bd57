// Packer's template functions (packer-plugin-sdk template/interpolate/funcs.go) bound to one
// context. Messages are Packer's, so a user searching for one finds the Packer answer.
import { dirname, resolve } from "node:path";
import { PACKER_COMPAT_VERSION } from "../../version.ts";
import type { JsonValue } from "../../values/json.ts";
import { checkStringLength } from "../../values/limits.ts";
import { FuncError } from "./errors.ts";
import type { TemplateFunc } from "./exec.ts";
import { goFormatTime, RFC3339 } from "./go-time.ts";
import { goPrint } from "./values.ts";

/** What Packer's interpolate.Context carries. Every field is optional: plugins render with dot data only. */
export interface TemplateContext {
  /** `{{user}}` values. Absent: user variables are not available here. */
  userVariables?: Readonly<Record<string, string>>;
  /** On-demand lookup, used while the variables section resolves itself; wins over userVariables. */
  lookupUser?: (name: string) => string | undefined;
  /** Only the `variables` section may read the environment (`{{env}}`); it also makes `{{user}}` of an unset variable an error. */
  enableEnv?: boolean;
  env?: Readonly<Record<string, string | undefined>>;
  buildName?: string;
  buildType?: string;
  /** Path of the template file; `{{template_dir}}` is its absolute folder. */
  templatePath?: string;
  /** `{{build `X`}}` values; with placeholders, `{{build `X`}}` renders as `{{.X}}` for a later pass. */
  build?: { generated: Readonly<Record<string, JsonValue>>; placeholders: boolean };
  /** Frozen "now" of `timestamp`/`isotime`/`strftime` (Packer: process start, UTC). */
  now?: Date;
  /** Working directory for `{{pwd}}` (default: the process's). */
  cwd?: string;
  packerVersion?: string;
}

/** Packer's InitTime: one instant for a whole run, so every `{{timestamp}}` agrees. */
export const INIT_TIME = new Date();

/** `{{uuid}}`: not a v4 UUID — 8 hex digits of Unix time, then 96 random bits (Packer's TimeOrderedUUID). */
export function timeOrderedUuid(now: Date = new Date()): string {
  const unix = (Math.floor(now.getTime() / 1000) >>> 0).toString(16).padStart(8, "0");
  const b = crypto.getRandomValues(new Uint8Array(12));
  const hex = (from: number, to: number) => Array.from(b.subarray(from, to), (x) => x.toString(16).padStart(2, "0")).join("");
  return `${unix}-${hex(0, 2)}-${hex(2, 4)}-${hex(4, 6)}-${hex(6, 12)}`;
}

/** Go's strings.Replace(s, old, new, n): n < 0 replaces all; an empty `old` matches at every rune boundary. */
export function goReplace(s: string, old: string, replacement: string, n: number): string {
  if (n === 0 || old === replacement) return s;
  // Bound the result before building it: an empty `old` inserts `replacement` at every rune.
  const matches = old === "" ? s.length + 1 : s.split(old).length - 1;
  const count = n < 0 ? matches : Math.min(n, matches);
  checkStringLength(s.length + count * (replacement.length - old.length), "the replaced string");
  if (old === "") {
    const runes = Array.from(s);
    let out = "";
    let done = 0;
    for (let k = 0; k <= runes.length; k++) {
      if (n < 0 || done < n) {
        out += replacement;
        done++;
      }
      if (k < runes.length) out += runes[k];
    }
    return out;
  }
  if (n < 0) return s.split(old).join(replacement);
  let out = "";
  let from = 0;
  for (let done = 0; done < n; done++) {
    const at = s.indexOf(old, from);
    if (at === -1) break;
    out += s.slice(from, at) + replacement;
    from = at + old.length;
  }
  return out + s.slice(from);
}

/** The generic `clean_resource_name`: lower case, anything but [a-z0-9-] becomes "-" (GCE's rule). */
export function cleanResourceName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]/g, "-");
}

/** A subset of C strftime as jehiah/go-strftime implements it. */
function strftime(format: string, t: Date): string {
  const days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const p2 = (n: number) => String(n).padStart(2, "0");
  return format.replace(/%(.)/g, (m, c: string) => {
    switch (c) {
      case "a": return days[t.getUTCDay()]!.slice(0, 3);
      case "A": return days[t.getUTCDay()]!;
      case "b": return months[t.getUTCMonth()]!.slice(0, 3);
      case "B": return months[t.getUTCMonth()]!;
      case "c": return goFormatTime(t, "Mon Jan  2 15:04:05 2006");
      case "d": return p2(t.getUTCDate());
      case "f": return String(t.getUTCMilliseconds() * 1000).padStart(6, "0");
      case "H": return p2(t.getUTCHours());
      case "I": return p2(t.getUTCHours() % 12 || 12);
      case "j": return goFormatTime(t, "002");
      case "L": return String(t.getUTCMilliseconds()).padStart(3, "0");
      case "m": return p2(t.getUTCMonth() + 1);
      case "M": return p2(t.getUTCMinutes());
      case "p": return t.getUTCHours() >= 12 ? "PM" : "AM";
      case "S": return p2(t.getUTCSeconds());
      case "y": return p2(t.getUTCFullYear() % 100);
      case "Y": return String(t.getUTCFullYear());
      case "Z": return "UTC";
      case "z": return "+0000";
      case "%": return "%";
      default: return m;
    }
  });
}

/** Functions Packer knows but imgb cannot offer (remote secret stores): defined, so templates parse. */
const UNSUPPORTED = ["consul_key", "vault", "aws_secretsmanager", "aws_secretsmanager_raw"];

export const PACKER_FUNCTION_NAMES: readonly string[] = [
  "build_name",
  "build_type",
  "env",
  "isotime",
  "strftime",
  "pwd",
  "split",
  "template_dir",
  "timestamp",
  "uuid",
  "user",
  "packer_version",
  "sed",
  "build",
  "replace",
  "replace_all",
  "upper",
  "lower",
  "clean_resource_name",
  ...UNSUPPORTED,
];

export function packerFunctions(ctx: TemplateContext): Map<string, TemplateFunc> {
  const now = ctx.now ?? INIT_TIME;
  const s = (v: unknown) => v as string;
  const fns = new Map<string, TemplateFunc>([
    ["build_name", { params: [], call: () => {
      if (!ctx.buildName) throw new FuncError("build_name not available");
      return ctx.buildName;
    } }],
    ["build_type", { params: [], call: () => {
      if (!ctx.buildType) throw new FuncError("build_type not available");
      return ctx.buildType;
    } }],
    ["env", { params: ["string"], call: ([k]) => {
      if (!ctx.enableEnv) throw new FuncError("env vars are not allowed here");
      return (ctx.env ?? process.env)[s(k)] ?? "";
    } }],
    ["isotime", { params: [], variadic: "string", call: (args) => {
      if (args.length > 1) throw new FuncError(`too many values, 1 needed: [${args.map(goPrint).join(" ")}]`);
      return goFormatTime(now, args.length === 0 ? RFC3339 : s(args[0]));
    } }],
    ["strftime", { params: ["string"], call: ([f]) => strftime(s(f), now) }],
    ["pwd", { params: [], call: () => ctx.cwd ?? process.cwd() }],
    ["split", { params: ["string", "string", "int"], call: ([k, sep, i]) => {
      const parts = s(k).split(s(sep));
      const idx = i as number;
      if (parts.length <= idx || idx < 0) {
        throw new FuncError(`the substring ${idx} was unavailable using the separator value, ${s(sep)}, only ${parts.length} values were found`);
      }
      return parts[idx] as string;
    } }],
    ["template_dir", { params: [], call: () => {
      if (!ctx.templatePath) throw new FuncError("template path not available");
      return dirname(resolve(ctx.templatePath));
    } }],
    ["timestamp", { params: [], call: () => String(Math.floor(now.getTime() / 1000)) }],
    ["uuid", { params: [], call: () => timeOrderedUuid() }],
    ["user", { params: ["string"], call: ([k]) => {
      const key = s(k);
      const vars = ctx.userVariables;
      if (!vars && !ctx.lookupUser) throw new FuncError("user variables are not available here");
      const v = ctx.lookupUser ? ctx.lookupUser(key) : vars && Object.hasOwn(vars, key) ? vars[key] : undefined;
      // In the variables section an unset variable is an error (and a retry in Packer); elsewhere it is "".
      if (v === undefined && ctx.enableEnv) throw new FuncError(`Error: variable not set: ${key}`);
      return v ?? "";
    } }],
    ["packer_version", { params: [], call: () => ctx.packerVersion ?? PACKER_COMPAT_VERSION }],
    ["sed", { params: ["string", "string"], call: () => {
      throw new FuncError("template function `sed` is deprecated use `replace` or `replace_all` instead.");
    } }],
    ["build", { params: ["string"], call: ([k]) => {
      const key = s(k);
      if (!ctx.build) throw new FuncError(`Error validating build variable: the given variable ${key} will not be passed into your plugin.`);
      if (ctx.build.placeholders) return `{{.${key}}}`;
      if (!Object.hasOwn(ctx.build.generated, key)) throw new FuncError(`loaded data, but couldnt find ${key} in it.`);
      const v = ctx.build.generated[key];
      return typeof v === "string" ? v : goPrint(v);
    } }],
    ["replace", { params: ["string", "string", "int", "string"], call: ([o, n, c, src]) => goReplace(s(src), s(o), s(n), c as number) }],
    ["replace_all", { params: ["string", "string", "string"], call: ([o, n, src]) => goReplace(s(src), s(o), s(n), -1) }],
    ["upper", { params: ["string"], call: ([v]) => s(v).toUpperCase() }],
    ["lower", { params: ["string"], call: ([v]) => s(v).toLowerCase() }],
    ["clean_resource_name", { params: ["string"], call: ([v]) => cleanResourceName(s(v)) }],
  ]);
  for (const name of UNSUPPORTED) {
    fns.set(name, { params: [], variadic: "string", call: () => {
      throw new FuncError(ctx.enableEnv ? `${name} is not supported by imgb` : `${name} is only allowed in the variables section`);
    } });
  }
  return fns;
}
