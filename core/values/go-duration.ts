// Go's time.ParseDuration and Duration.String, because Packer's `pause_before`, `timeout` and many
// plugin options are Go durations ("1m30s", "500ms", "1h") and its messages print them back that way.

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3, // U+00B5 micro sign
  "μs": 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

/** Parses a Go duration; the result is in milliseconds (fractions kept). Errors use Go's wording. */
export function parseGoDuration(input: string): DurationResult {
  const bad = (): DurationResult => ({ ok: false, error: `time: invalid duration ${JSON.stringify(input)}` });
  let s = input;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ok: true, ms: 0 };
  if (s === "") return bad();
  let totalNs = 0;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = m?.[1] ?? "";
    const frac = m?.[2];
    if (whole === "" && (frac === undefined || frac === "")) return bad();
    s = s.slice(m?.[0].length ?? 0);
    const unitMatch = /^[^\d.]+/.exec(s);
    if (!unitMatch) return { ok: false, error: `time: missing unit in duration ${JSON.stringify(input)}` };
    const unit = unitMatch[0];
    const scale = UNIT_NS[unit];
    if (scale === undefined) {
      return { ok: false, error: `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(input)}` };
    }
    s = s.slice(unit.length);
    const value = Number(`${whole || "0"}.${frac || "0"}`);
    totalNs += value * scale;
  }
  const ms = totalNs / 1e6;
  return { ok: true, ms: neg ? -ms : ms };
}

/** Go's Duration.String() for a millisecond count: "2s", "1m30s", "500ms", "1.5µs", "0s". */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  if (neg) ns = -ns;
  const sign = neg ? "-" : "";
  if (ns < 1e9) {
    // Sub-second: the largest unit that keeps the integer part non-zero.
    if (ns < 1e3) return `${sign}${ns}ns`;
    if (ns < 1e6) return `${sign}${fraction(ns, 1e3)}µs`;
    return `${sign}${fraction(ns, 1e6)}ms`;
  }
  const h = Math.floor(ns / 3600e9);
  ns -= h * 3600e9;
  const m = Math.floor(ns / 60e9);
  ns -= m * 60e9;
  const secs = fraction(ns, 1e9);
  let out = `${secs}s`;
  if (h > 0 || m > 0) out = `${m}m${out}`;
  if (h > 0) out = `${h}h${out}`;
  return sign + out;
}

/** value/unit printed like Go: integer part, then the fraction without trailing zeros. */
function fraction(value: number, unit: number): string {
  const whole = Math.floor(value / unit);
  const rest = value - whole * unit;
  if (rest === 0) return String(whole);
  const digits = String(unit).length - 1;
  const frac = String(rest).padStart(digits, "0").replace(/0+$/, "");
  return `${whole}.${frac}`;
}
