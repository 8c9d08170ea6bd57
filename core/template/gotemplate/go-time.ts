// Go's time.Format with reference layouts ("2006-01-02T15:04:05Z07:00", "Jan _2 15:04:05.000"),
// always in UTC as Packer's `isotime` is. A port of the chunk scanner in Go's time/format.go.

const LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

export const RFC3339 = "2006-01-02T15:04:05Z07:00";

type Chunk =
  | "January" | "Jan" | "1" | "01" | "Monday" | "Mon" | "2" | "_2" | "02" | "__2" | "002"
  | "15" | "3" | "03" | "4" | "04" | "5" | "05" | "2006" | "06" | "PM" | "pm" | "MST"
  | "Z0700" | "Z070000" | "Z07" | "Z07:00" | "Z07:00:00"
  | "-0700" | "-070000" | "-07" | "-07:00" | "-07:00:00"
  | { frac: number; trim: boolean; sep: string };

const isDigitAt = (s: string, i: number) => i < s.length && s[i]! >= "0" && s[i]! <= "9";

/** Splits layout into [literal, chunk, rest] at the first standard chunk (Go's nextStdChunk). */
function nextChunk(layout: string): [string, Chunk | null, string] {
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i];
    const at = (s: string) => layout.startsWith(s, i);
    const cut = (chunk: Chunk, len: number): [string, Chunk, string] => [layout.slice(0, i), chunk, layout.slice(i + len)];
    switch (c) {
      case "J":
        if (at("January")) return cut("January", 7);
        if (at("Jan")) return cut("Jan", 3);
        break;
      case "M":
        if (at("Monday")) return cut("Monday", 6);
        if (at("Mon")) return cut("Mon", 3);
        if (at("MST")) return cut("MST", 3);
        break;
      case "0":
        if (at("002")) return cut("002", 3);
        if (i + 1 < layout.length && layout[i + 1]! >= "1" && layout[i + 1]! <= "6") {
          return cut((["01", "02", "03", "04", "05", "06"] as const)[Number(layout[i + 1]) - 1]!, 2);
        }
        break;
      case "1":
        if (at("15")) return cut("15", 2);
        return cut("1", 1);
      case "2":
        if (at("2006")) return cut("2006", 4);
        return cut("2", 1);
      case "_":
        if (at("_2")) {
          // `_2006` is a literal underscore followed by a long year.
          if (at("_2006")) return [layout.slice(0, i + 1), "2006", layout.slice(i + 5)];
          return cut("_2", 2);
        }
        if (at("__2")) return cut("__2", 3);
        break;
      case "3":
        return cut("3", 1);
      case "4":
        return cut("4", 1);
      case "5":
        return cut("5", 1);
      case "P":
        if (at("PM")) return cut("PM", 2);
        break;
      case "p":
        if (at("pm")) return cut("pm", 2);
        break;
      case "-":
        for (const z of ["-07:00:00", "-070000", "-07:00", "-0700", "-07"] as const) if (at(z)) return cut(z, z.length);
        break;
      case "Z":
        for (const z of ["Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07"] as const) if (at(z)) return cut(z, z.length);
        break;
      case ".":
      case ",":
        if (i + 1 < layout.length && (layout[i + 1] === "0" || layout[i + 1] === "9")) {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) return cut({ frac: j - (i + 1), trim: ch === "9", sep: c }, j - i);
        }
        break;
    }
  }
  return [layout, null, ""];
}

const pad = (n: number, width: number, ch = "0") => String(n).padStart(width, ch);

/** Formats `date` (in UTC) with a Go reference layout. */
export function goFormatTime(date: Date, layout: string): string {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  const hour = date.getUTCHours();
  const minute = date.getUTCMinutes();
  const second = date.getUTCSeconds();
  const nanos = date.getUTCMilliseconds() * 1e6;
  const weekday = date.getUTCDay();
  const yearDay = Math.floor((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / 86400000) + 1;
  let out = "";
  let rest = layout;
  while (rest !== "") {
    const [prefix, chunk, suffix] = nextChunk(rest);
    out += prefix;
    if (chunk === null) break;
    rest = suffix;
    if (typeof chunk === "object") {
      const digits = pad(nanos, 9).slice(0, chunk.frac);
      if (!chunk.trim) out += chunk.sep + digits;
      else {
        const trimmed = digits.replace(/0+$/, "");
        if (trimmed !== "") out += chunk.sep + trimmed;
      }
      continue;
    }
    switch (chunk) {
      case "January":
        out += LONG_MONTHS[month];
        break;
      case "Jan":
        out += LONG_MONTHS[month]!.slice(0, 3);
        break;
      case "1":
        out += month + 1;
        break;
      case "01":
        out += pad(month + 1, 2);
        break;
      case "Monday":
        out += LONG_DAYS[weekday];
        break;
      case "Mon":
        out += LONG_DAYS[weekday]!.slice(0, 3);
        break;
      case "2":
        out += day;
        break;
      case "_2":
        out += pad(day, 2, " ");
        break;
      case "02":
        out += pad(day, 2);
        break;
      case "__2":
        out += pad(yearDay, 3, " ");
        break;
      case "002":
        out += pad(yearDay, 3);
        break;
      case "15":
        out += pad(hour, 2);
        break;
      case "3":
        out += hour % 12 === 0 ? 12 : hour % 12;
        break;
      case "03":
        out += pad(hour % 12 === 0 ? 12 : hour % 12, 2);
        break;
      case "4":
        out += minute;
        break;
      case "04":
        out += pad(minute, 2);
        break;
      case "5":
        out += second;
        break;
      case "05":
        out += pad(second, 2);
        break;
      case "2006":
        out += pad(year, 4);
        break;
      case "06":
        out += pad(year % 100, 2);
        break;
      case "PM":
        out += hour >= 12 ? "PM" : "AM";
        break;
      case "pm":
        out += hour >= 12 ? "pm" : "am";
        break;
      case "MST":
        out += "UTC";
        break;
      case "Z0700":
      case "Z070000":
      case "Z07":
      case "Z07:00":
      case "Z07:00:00":
        out += "Z";
        break;
      case "-0700":
        out += "+0000";
        break;
      case "-070000":
        out += "+000000";
        break;
      case "-07":
        out += "+00";
        break;
      case "-07:00":
        out += "+00:00";
        break;
      case "-07:00:00":
        out += "+00:00:00";
        break;
    }
  }
  return out;
}
