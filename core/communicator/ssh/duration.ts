// ssh_timeout and friends are Go durations ("5m", "1h5m2s", "300ms"), parsed by the one Go duration parser.
import { formatGoDuration, parseGoDuration } from "../../values/go-duration.ts";

/** Milliseconds, or null when `text` is not a Go duration. */
export function parseDuration(text: string): number | null {
  const r = parseGoDuration(text.trim());
  return r.ok ? r.ms : null;
}

/** "5m0s"-style text for messages (whole seconds above one second). */
export function formatDuration(ms: number): string {
  return formatGoDuration(ms < 1000 ? Math.round(ms) : Math.round(ms / 1000) * 1000);
}
