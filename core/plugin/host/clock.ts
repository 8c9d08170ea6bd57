// The clock a plugin reads through `now` (served in the sandbox child, and by the in-process host).
// The monotonic reading is rounded to microseconds: still monotonic, and short enough (16 significant
// digits) that a plugin's reader takes it exactly from the decimal without a general float parser.

export interface ClockReading {
  unix_ms: number;
  monotonic_ms: number;
}

export function readClock(): ClockReading {
  return { unix_ms: Date.now(), monotonic_ms: Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000 };
}
