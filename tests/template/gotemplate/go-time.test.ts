// Go reference-layout formatting (time.Format), always UTC as Packer's isotime.
import { expect, test } from "bun:test";
import { goFormatTime, RFC3339 } from "../../../core/template/gotemplate/go-time.ts";

const T = new Date(Date.UTC(2021, 4, 17, 23, 40, 16, 786)); // Monday 17 May 2021, day 137
const AM = new Date(Date.UTC(2006, 0, 2, 3, 4, 5, 0));

test.each([
  [RFC3339, "2021-05-17T23:40:16Z"],
  ["2006-01-02", "2021-05-17"],
  ["Jan-_2-15:04:05.000", "May-17-23:40:16.786"],
  ["3:04PM", "11:40PM"],
  ["Monday, January 2 2006", "Monday, May 17 2021"],
  ["Mon Jan _2 15:04:05 MST 2006", "Mon May 17 23:40:16 UTC 2021"],
  ["02/01/06 03:04:05pm", "17/05/21 11:40:16pm"],
  ["2006-01-02T15:04:05.999999999Z07:00", "2021-05-17T23:40:16.786Z"],
  ["15:04:05,000000", "23:40:16,786000"],
  ["-0700 -07:00 -07 Z0700", "+0000 +00:00 +00 Z"],
  ["002 __2 1/2", "137 137 5/17"],
  ["_2006", "_2021"],
])("%s", (layout, want) => {
  expect(goFormatTime(T, layout)).toBe(want);
});

test("morning hours, trimmed zero fraction, padded day", () => {
  expect(goFormatTime(AM, "3 03 15 PM .999 _2 02 2")).toBe("3 03 03 AM   2 02 2");
});

test("layout without reference values is literal", () => {
  expect(goFormatTime(T, "build at noon")).toBe("build at noon");
});
