// Packer prints durations spelled out ("2 seconds 61 milliseconds"); users grep for these lines,
// so imgb prints them the same way. Only the two most significant units are shown, as Packer does.
const UNITS: Array<[name: string, ns: bigint]> = [
  ["hour", 3_600_000_000_000n],
  ["minute", 60_000_000_000n],
  ["second", 1_000_000_000n],
  ["millisecond", 1_000_000n],
  ["microsecond", 1_000n],
  ["nanosecond", 1n],
];

export function humanDuration(ms: number): string {
  let ns = BigInt(Math.max(0, Math.round(ms * 1_000_000)));
  const parts: string[] = [];
  for (const [name, size] of UNITS) {
    if (parts.length === 2) break;
    const n = ns / size;
    if (n > 0n || parts.length > 0) {
      if (n > 0n) parts.push(`${n} ${name}${n === 1n ? "" : "s"}`);
      ns -= n * size;
      if (parts.length > 0 && n === 0n) break;
    }
  }
  return parts.length ? parts.join(" ") : "0 seconds";
}

/** Go's time.Duration.String(): "2s", "1m30s", "500ms" — Packer prints durations from templates this way. */
export { formatGoDuration as goDurationString } from "../values/go-duration.ts";
