// Go's time.ParseDuration and Duration.String, because Packer's `pause_before`, `timeout` and many
// plugin options are Go durations ("1m30s", "500ms", "1h") and its messages print them back that way.
// The one Go duration parser: ssh_timeout, pause_before, boot_wait, HCL's timeadd and every other
// duration go through it, so a text is accepted or refused exactly where Go accepts or refuses it.

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n, // U+00B5 micro sign
  "μs": 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NS = (1n << 63n) - 1n;

/** `ns`: Go's time.Duration (int64 nanoseconds); `ms`: the same in milliseconds (fractions kept). */
export type DurationResult = { ok: true; ns: bigint; ms: number } | { ok: false; error: string };

/**
 * time.ParseDuration, rule for rule: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` or "0"; no spaces; units ns,
 * us (µs, μs), ms, s, m, h; fractions below a nanosecond truncated; beyond ±292 years is an error.
 * Errors use Go's wording.
 */
export function parseGoDuration(input: string): DurationResult {
  const invalid = (): DurationResult => ({ ok: false, error: `time: invalid duration ${JSON.stringify(input)}` });
  let s = input;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return ok(0n);
  if (s === "") return invalid();
  let total = 0n;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const whole = m[1]!;
    const frac = m[2];
    // The next character must be a digit or a period, and some digit must come before the unit.
    if (whole === "" && (frac === undefined || frac === "")) return invalid();
    s = s.slice(m[0].length);
    // The unit runs to the next digit or period.
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === "") return { ok: false, error: `time: missing unit in duration ${JSON.stringify(input)}` };
    const scale = UNIT_NS[unit];
    if (scale === undefined) return { ok: false, error: `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(input)}` };
    s = s.slice(unit.length);
    let v = BigInt(whole || "0") * scale;
    if (frac) {
      // As Go: the fraction's digits as an integer (digits past int64 are dropped), scaled in float64.
      const digits = frac.slice(0, 18);
      v += BigInt(Math.floor(Number(digits) * (Number(scale) / 10 ** digits.length)));
    }
    total += v;
    if (total > MAX_NS + 1n) return invalid();
  }
  if (neg) return ok(-total);
  if (total > MAX_NS) return invalid();
  return ok(total);
}

function ok(ns: bigint): DurationResult {
  return { ok: true, ns, ms: Number(ns) / 1e6 };
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
