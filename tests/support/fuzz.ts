// Shared by the fuzzers: a seeded PRNG and the run budget. The suite runs each fuzzer briefly with a
// fixed seed; a longer run sets IMGB_FUZZ_MS (milliseconds per fuzzer) and IMGB_FUZZ_SEED (see
// tests/README.md).
export const FUZZ_SEED = Number(process.env.IMGB_FUZZ_SEED ?? 20261203);

/** Milliseconds a fuzzer runs: `quick` in the suite, IMGB_FUZZ_MS when set. */
export function fuzzBudgetMs(quick: number): number {
  const v = Number(process.env.IMGB_FUZZ_MS);
  return Number.isFinite(v) && v > 0 ? v : quick;
}

/** mulberry32: small, seeded, good enough to pick mutations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const int = (r: Rng, n: number): number => Math.floor(r() * n);

/** Byte-level mutations: truncation, insertion of `tokens`, deletion, a random byte (invalid UTF-8 included), splicing. */
export function mutateBytes(src: Uint8Array, r: Rng, tokens: readonly string[]): Uint8Array {
  let s = Buffer.from(src);
  const n = 1 + int(r, 3);
  for (let i = 0; i < n; i++) {
    const at = int(r, s.length + 1);
    switch (int(r, 5)) {
      case 0:
        s = s.subarray(0, at);
        break;
      case 1:
        s = Buffer.concat([s.subarray(0, at), Buffer.from(pick(r, tokens)), s.subarray(at)]);
        break;
      case 2:
        s = Buffer.concat([s.subarray(0, at), s.subarray(at + 1 + int(r, 8))]);
        break;
      case 3:
        s = Buffer.concat([s.subarray(0, at), Buffer.from([int(r, 256)]), s.subarray(at + 1)]);
        break;
      default: {
        const from = int(r, s.length);
        s = Buffer.concat([s.subarray(0, at), s.subarray(from, from + int(r, 64)), s.subarray(at)]);
      }
    }
  }
  return s;
}
