// Go durations: parse (pause_before, timeout) and print back like Duration.String().
import { expect, test } from "bun:test";
import { formatGoDuration, parseGoDuration } from "../../core/values/go-duration.ts";

test.each([
  ["1m30s", 90_000],
  ["500ms", 500],
  ["1h", 3_600_000],
  ["1.5h", 5_400_000],
  ["2h45m10.5s", 9_910_500],
  ["0", 0],
  ["-1s", -1000],
  ["+5s", 5000],
  ["1us", 0.001],
  ["1µs", 0.001],
  ["100ns", 0.0001],
  [".5s", 500],
])("parse %s", (s, ms) => {
  const d = parseGoDuration(s);
  expect(d.ok && d.ms).toBeCloseTo(ms, 9);
});

test.each([
  ["", 'time: invalid duration ""'],
  ["5", 'time: missing unit in duration "5"'],
  ["5d", 'time: unknown unit "d" in duration "5d"'],
  ["s", 'time: invalid duration "s"'],
  ["1m-2s", 'time: unknown unit "m-" in duration "1m-2s"'],
])("reject %j", (s, error) => {
  expect(parseGoDuration(s)).toEqual({ ok: false, error });
});

test.each([
  [2000, "2s"],
  [90_000, "1m30s"],
  [500, "500ms"],
  [3_600_000, "1h0m0s"],
  [9_910_500, "2h45m10.5s"],
  [0.0015, "1.5µs"],
  [0.0001, "100ns"],
  [0, "0s"],
  [-1500, "-1.5s"],
])("format %d ms", (ms, s) => {
  expect(formatGoDuration(ms)).toBe(s);
});

test("what ssh_timeout and the builders' durations accept (milliseconds) and refuse, as Go does", () => {
  const parseDuration = (text: string) => {
    const d = parseGoDuration(text);
    return d.ok ? d.ms : null;
  };
  expect(parseDuration("5m")).toBe(300_000);
  expect(parseDuration("1h5m2s")).toBe(3_902_000);
  expect(parseDuration("300ms")).toBe(300);
  expect(parseDuration("1.5s")).toBe(1500);
  expect(parseDuration("-1s")).toBe(-1000);
  expect(parseDuration("0")).toBe(0);
  expect(parseDuration("5")).toBeNull();
  expect(parseDuration("5 m")).toBeNull();
  // Go accepts no spaces around a duration and no bare number of seconds.
  expect(parseDuration(" 5m")).toBeNull();
  expect(parseDuration("10")).toBeNull();
});

test("Go's integer nanoseconds: fractions below a nanosecond are cut, beyond int64 is an error", () => {
  const ns = (text: string) => {
    const d = parseGoDuration(text);
    return d.ok ? d.ns : d.error;
  };
  expect(ns("1.5ns")).toBe(1n);
  expect(ns("1.000000001s")).toBe(1_000_000_001n);
  expect(ns("2562047h47m16.854775807s")).toBe((1n << 63n) - 1n);
  expect(ns("2562047h47m16.854775808s")).toBe('time: invalid duration "2562047h47m16.854775808s"');
  expect(ns("-2562047h47m16.854775808s")).toBe(-(1n << 63n));
  expect(ns("1.s")).toBe(1_000_000_000n);
  expect(ns(".s")).toBe('time: invalid duration ".s"');
  expect(ns("1h-5m")).toBe('time: unknown unit "h-" in duration "1h-5m"');
});
