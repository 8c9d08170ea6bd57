// Date and time functions: timestamp, formatdate (its own layout language), timeadd (Go
// durations), legacy_isotime (Go reference-time layouts) and legacy_strftime.
import type { HclFunction } from "../context.ts";
import { T } from "../types.ts";
import { V } from "../value.ts";
import { FunctionError, fn, p } from "./helpers.ts";
import { parseGoDuration } from "../../values/go-duration.ts";

/** A point in time plus the UTC offset it was written with. */
export interface ZonedTime {
  /** Milliseconds since the epoch (UTC). */
  ms: number;
  /** Sub-millisecond nanoseconds (0..999999), kept for round trips. */
  nanos: number;
  /** Offset from UTC in minutes; `utc` marks a literal "Z". */
  offset: number;
  utc: boolean;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

export function parseRfc3339(s: string): ZonedTime {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) {
    throw new FunctionError(`not a valid RFC3339 timestamp: cannot use ${JSON.stringify(s)} as year`);
  }
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  const utc = zone === "Z" || zone === "z";
  const offset = utc ? 0 : (zone![0] === "-" ? -1 : 1) * (parseInt(zone!.slice(1, 3), 10) * 60 + parseInt(zone!.slice(4, 6), 10));
  const fracDigits = (frac ?? ".").slice(1).padEnd(9, "0").slice(0, 9);
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, parseInt(fracDigits.slice(0, 3), 10)) - offset * 60000;
  if (+mo! < 1 || +mo! > 12 || +d! < 1 || +d! > 31 || +h! > 23 || +mi! > 59 || +se! > 59) {
    throw new FunctionError(`not a valid RFC3339 timestamp: ${JSON.stringify(s)} is out of range`);
  }
  return { ms, nanos: parseInt(fracDigits.slice(3), 10), offset, utc };
}

/** Calendar fields in the time's own zone. */
function fields(t: ZonedTime) {
  const d = new Date(t.ms + t.offset * 60000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    millis: d.getUTCMilliseconds(),
    yday: Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1,
  };
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");

function zone(t: ZonedTime, colon: boolean): string {
  const sign = t.offset < 0 ? "-" : "+";
  const a = Math.abs(t.offset);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ":" : ""}${pad(a % 60)}`;
}

export function toRfc3339(t: ZonedTime): string {
  const f = fields(t);
  const fracNs = f.millis * 1000000 + t.nanos;
  const frac = fracNs ? "." + String(fracNs).padStart(9, "0").replace(/0+$/, "") : "";
  return `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}${frac}${t.utc || t.offset === 0 ? "Z" : zone(t, true)}`;
}

export function formatDate(spec: string, t: ZonedTime): string {
  const f = fields(t);
  let out = "";
  let i = 0;
  while (i < spec.length) {
    const c = spec[i]!;
    if (c === "'") {
      // Quoted literal; '' inside is a quote.
      let j = i + 1;
      let lit = "";
      if (spec[j] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      for (;;) {
        if (j >= spec.length) throw new FunctionError("unterminated literal '", 0);
        if (spec[j] === "'") {
          if (spec[j + 1] === "'") {
            lit += "'";
            j += 2;
            continue;
          }
          break;
        }
        lit += spec[j];
        j++;
      }
      out += lit;
      i = j + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      out += c;
      i++;
      continue;
    }
    let j = i;
    while (j < spec.length && spec[j] === c) j++;
    const seq = spec.slice(i, j);
    i = j;
    switch (seq) {
      case "YYYY":
        out += pad(f.year, 4);
        break;
      case "YY":
        out += pad(f.year % 100);
        break;
      case "MMMM":
        out += MONTHS[f.month - 1];
        break;
      case "MMM":
        out += MONTHS[f.month - 1]!.slice(0, 3);
        break;
      case "MM":
        out += pad(f.month);
        break;
      case "M":
        out += String(f.month);
        break;
      case "DD":
        out += pad(f.day);
        break;
      case "D":
        out += String(f.day);
        break;
      case "EEEE":
        out += DAYS[f.weekday];
        break;
      case "EEE":
        out += DAYS[f.weekday]!.slice(0, 3);
        break;
      case "hh":
        out += pad(f.hour);
        break;
      case "h":
        out += String(f.hour);
        break;
      case "HH":
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12);
        break;
      case "H":
        out += String(f.hour % 12 === 0 ? 12 : f.hour % 12);
        break;
      case "AA":
        out += f.hour < 12 ? "AM" : "PM";
        break;
      case "aa":
        out += f.hour < 12 ? "am" : "pm";
        break;
      case "mm":
        out += pad(f.minute);
        break;
      case "m":
        out += String(f.minute);
        break;
      case "ss":
        out += pad(f.second);
        break;
      case "s":
        out += String(f.second);
        break;
      case "ZZZZZ":
        out += zone(t, true);
        break;
      case "ZZZZ":
        out += zone(t, false);
        break;
      case "ZZZ":
        out += t.offset === 0 ? "UTC" : zone(t, false);
        break;
      case "Z":
        out += t.offset === 0 ? "Z" : zone(t, true);
        break;
      default:
        throw new FunctionError(`invalid date format verb ${JSON.stringify(seq)}: unsupported format sequence`, 0);
    }
  }
  return out;
}

/** Go reference-time layout formatting (for legacy_isotime). */
export function goLayout(layout: string, t: ZonedTime): string {
  const f = fields(t);
  const tokens: Array<[string, () => string]> = [
    ["January", () => MONTHS[f.month - 1]!],
    ["Monday", () => DAYS[f.weekday]!],
    ["2006", () => pad(f.year, 4)],
    ["Z07:00", () => (t.offset === 0 ? "Z" : zone(t, true))],
    ["-07:00", () => zone(t, true)],
    ["Z0700", () => (t.offset === 0 ? "Z" : zone(t, false))],
    ["-0700", () => zone(t, false)],
    ["Jan", () => MONTHS[f.month - 1]!.slice(0, 3)],
    ["Mon", () => DAYS[f.weekday]!.slice(0, 3)],
    ["MST", () => (t.offset === 0 ? "UTC" : zone(t, false))],
    ["-07", () => zone(t, false).slice(0, 3)],
    [".000000000", () => "." + pad(f.millis * 1e6 + t.nanos, 9)],
    [".000000", () => "." + pad(Math.floor((f.millis * 1e6 + t.nanos) / 1000), 6)],
    [".000", () => "." + pad(f.millis, 3)],
    [".999999999", () => ((f.millis * 1e6 + t.nanos) ? "." + pad(f.millis * 1e6 + t.nanos, 9).replace(/0+$/, "") : "")],
    [".999", () => (f.millis ? "." + pad(f.millis, 3).replace(/0+$/, "") : "")],
    ["002", () => pad(f.yday, 3)],
    ["01", () => pad(f.month)],
    ["02", () => pad(f.day)],
    ["_2", () => String(f.day).padStart(2, " ")],
    ["06", () => pad(f.year % 100)],
    ["15", () => pad(f.hour)],
    ["03", () => pad(f.hour % 12 === 0 ? 12 : f.hour % 12)],
    ["04", () => pad(f.minute)],
    ["05", () => pad(f.second)],
    ["PM", () => (f.hour < 12 ? "AM" : "PM")],
    ["pm", () => (f.hour < 12 ? "am" : "pm")],
    ["1", () => String(f.month)],
    ["2", () => String(f.day)],
    ["3", () => String(f.hour % 12 === 0 ? 12 : f.hour % 12)],
    ["4", () => String(f.minute)],
    ["5", () => String(f.second)],
  ];
  let out = "";
  let i = 0;
  outer: while (i < layout.length) {
    for (const [tok, render] of tokens) {
      if (layout.startsWith(tok, i)) {
        out += render();
        i += tok.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

/** strftime as implemented by lestrrat-go/strftime (legacy_strftime). */
export function strftime(format: string, t: ZonedTime): string {
  const f = fields(t);
  const h12 = f.hour % 12 === 0 ? 12 : f.hour % 12;
  const d = new Date(t.ms + t.offset * 60000);
  const weekNum = (startMonday: boolean) => {
    const wd = startMonday ? (f.weekday + 6) % 7 : f.weekday;
    return Math.floor((f.yday - 1 - wd + 7) / 7);
  };
  const isoWeek = () => {
    const date = new Date(Date.UTC(f.year, f.month - 1, f.day));
    const dayNum = (f.weekday + 6) % 7;
    date.setUTCDate(date.getUTCDate() - dayNum + 3);
    const firstThursday = new Date(Date.UTC(date.getUTCFullYear(), 0, 4));
    return 1 + Math.round(((date.getTime() - firstThursday.getTime()) / 86400000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
  };
  void d;
  const map: Record<string, () => string> = {
    A: () => DAYS[f.weekday]!,
    a: () => DAYS[f.weekday]!.slice(0, 3),
    B: () => MONTHS[f.month - 1]!,
    b: () => MONTHS[f.month - 1]!.slice(0, 3),
    h: () => MONTHS[f.month - 1]!.slice(0, 3),
    C: () => pad(Math.floor(f.year / 100)),
    c: () => `${DAYS[f.weekday]!.slice(0, 3)} ${MONTHS[f.month - 1]!.slice(0, 3)} ${String(f.day).padStart(2, " ")} ${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)} ${f.year}`,
    D: () => `${pad(f.month)}/${pad(f.day)}/${pad(f.year % 100)}`,
    d: () => pad(f.day),
    e: () => String(f.day).padStart(2, " "),
    F: () => `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}`,
    H: () => pad(f.hour),
    I: () => pad(h12),
    j: () => pad(f.yday, 3),
    k: () => String(f.hour).padStart(2, " "),
    l: () => String(h12).padStart(2, " "),
    M: () => pad(f.minute),
    m: () => pad(f.month),
    n: () => "\n",
    p: () => (f.hour < 12 ? "AM" : "PM"),
    R: () => `${pad(f.hour)}:${pad(f.minute)}`,
    r: () => `${pad(h12)}:${pad(f.minute)}:${pad(f.second)} ${f.hour < 12 ? "AM" : "PM"}`,
    S: () => pad(f.second),
    T: () => `${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`,
    t: () => "\t",
    U: () => pad(weekNum(false)),
    u: () => String(f.weekday === 0 ? 7 : f.weekday),
    V: () => pad(isoWeek()),
    v: () => `${String(f.day).padStart(2, " ")}-${MONTHS[f.month - 1]!.slice(0, 3)}-${f.year}`,
    W: () => pad(weekNum(true)),
    w: () => String(f.weekday),
    X: () => `${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`,
    x: () => `${pad(f.month)}/${pad(f.day)}/${pad(f.year % 100)}`,
    Y: () => String(f.year),
    y: () => pad(f.year % 100),
    Z: () => (t.offset === 0 ? "UTC" : zone(t, false)),
    z: () => zone(t, false),
    "%": () => "%",
  };
  let out = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== "%" || i + 1 >= format.length) {
      out += c;
      continue;
    }
    const v = format[i + 1]!;
    const r = map[v];
    if (r) {
      out += r();
      i++;
    } else out += c;
  }
  return out;
}

export function dateTimeFunctions(now: () => Date): Record<string, HclFunction> {
  const nowZ = (): ZonedTime => ({ ms: Math.floor(now().getTime() / 1000) * 1000, nanos: 0, offset: 0, utc: true });
  return {
    timestamp: fn([], () => V.string(toRfc3339(nowZ()))),
    formatdate: fn([p("format", T.string), p("time", T.string)], ([f, t]) => V.string(formatDate(f!.str, parseRfc3339(t!.str)))),
    timeadd: fn([p("timestamp", T.string), p("duration", T.string)], ([t, d]) => {
      const z = parseRfc3339(t!.str);
      const dur = parseGoDuration(d!.str);
      if (!dur.ok) throw new FunctionError(dur.error, 1);
      const ns = Number(dur.ns) + z.nanos;
      const addMs = Math.floor(ns / 1e6);
      return V.string(toRfc3339({ ...z, ms: z.ms + addMs, nanos: Math.round(ns - addMs * 1e6) }));
    }),
    legacy_isotime: fn([p("format", T.string)], ([f]) => V.string(goLayout(f!.str, nowZ()))),
    legacy_strftime: fn([p("format", T.string)], ([f]) => V.string(strftime(f!.str, nowZ()))),
  };
}
