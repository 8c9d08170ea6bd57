// Go's time.Duration text, as Packer's config decoding reads it ("5m", "1h30m", "1.5s", "300ms")
// and as Duration.String prints it ("5m0s", "1m30s", "1.5s"). Plugins have no clock, so durations
// are only parsed, checked and handed to whatever waits.

const NS_PER_US: f64 = 1e3;
const NS_PER_MS: f64 = 1e6;
const NS_PER_S: f64 = 1e9;

function unitNs(unit: string): f64 {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "µs" || unit == "μs") return NS_PER_US;
  if (unit == "ms") return NS_PER_MS;
  if (unit == "s") return NS_PER_S;
  if (unit == "m") return 60 * NS_PER_S;
  if (unit == "h") return 3600 * NS_PER_S;
  return -1;
}

function isDigitOrDot(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || c == 0x2e;
}

/** Nanoseconds of a Go duration string, or -1 when it is not one. "" is 0 (unset). */
export function parseGoDuration(text: string): f64 {
  let s = text.trim();
  if (s.length == 0) return 0;
  let sign: f64 = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.substring(1);
  }
  if (s == "0") return 0;
  if (s.length == 0) return -1;
  let total: f64 = 0;
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && isDigitOrDot(s.charCodeAt(i))) i++;
    if (i == start) return -1;
    const num = s.substring(start, i);
    if (num == ".") return -1;
    const value = parseFloat(num);
    if (isNaN(value)) return -1;
    const ustart = i;
    while (i < s.length && !isDigitOrDot(s.charCodeAt(i))) i++;
    const unit = unitNs(s.substring(ustart, i));
    if (unit < 0) return -1;
    total += value * unit;
  }
  return sign * Math.round(total);
}

/** "1.5" for (1500, 1000): an integer part and the fraction without trailing zeros. */
function withFraction(value: i64, unit: i64): string {
  const whole = value / unit;
  let frac = value % unit;
  if (frac == 0) return whole.toString();
  let digits = "";
  let width = unit.toString().length - 1;
  let f = frac.toString();
  while (f.length < width) f = "0" + f;
  digits = f;
  while (digits.endsWith("0")) digits = digits.substring(0, digits.length - 1);
  return whole.toString() + "." + digits;
}

/** Go's Duration.String for a number of nanoseconds. */
export function formatGoDuration(ns: f64): string {
  if (ns == 0) return "0s";
  let d = <i64>Math.abs(ns);
  const sign = ns < 0 ? "-" : "";
  if (d < 1000) return sign + d.toString() + "ns";
  if (d < 1000000) return sign + withFraction(d, 1000) + "µs";
  if (d < 1000000000) return sign + withFraction(d, 1000000) + "ms";
  const secsTotal = d / 1000000000;
  const fracNs = d % 1000000000;
  const h = secsTotal / 3600;
  const m = (secsTotal % 3600) / 60;
  const sec = secsTotal % 60;
  const secText = withFraction(sec * 1000000000 + fracNs, 1000000000) + "s";
  if (h > 0) return sign + h.toString() + "h" + m.toString() + "m" + secText;
  if (m > 0) return sign + m.toString() + "m" + secText;
  return sign + secText;
}

/** Seconds as `sleep` reads them ("90", "1.5"). */
export function secondsText(ns: f64): string {
  return withFraction(<i64>Math.max(0, ns), 1000000000);
}
