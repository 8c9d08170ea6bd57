// ssh's messages print durations back the way Go does ("5m0s"); parsing is the one Go duration parser's.
import { formatGoDuration } from "../../values/go-duration.ts";

/** "5m0s"-style text for messages (whole seconds above one second). */
export function formatDuration(ms: number): string {
  return formatGoDuration(ms < 1000 ? Math.round(ms) : Math.round(ms / 1000) * 1000);
}
