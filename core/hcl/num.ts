// HCL numbers. cty (the Go value library behind HCL) stores numbers as math/big.Float with a
// 512-bit mantissa, rounding to nearest-even after every operation. The spec suite's expected
// values (e.g. `11 % 5.1` = 0.8000…00024 with ~160 digits) are artifacts of exactly that binary
// rounding, so a decimal type would give different answers. Num emulates big.Float at 512 bits
// with a bigint mantissa and a binary exponent: value = mant * 2^exp.

export const PRECISION = 512;

export class NumError extends Error {}

export class Num {
  /** value = mant * 2^exp; mant is normalised so that it is odd (or zero, then exp = 0). */
  private constructor(
    readonly mant: bigint,
    readonly exp: number,
  ) {}

  static readonly ZERO = new Num(0n, 0);

  /** Rounds mant * 2^exp to PRECISION bits, nearest-even, and normalises. */
  static make(mant: bigint, exp: number): Num {
    if (mant === 0n) return Num.ZERO;
    const neg = mant < 0n;
    let m = neg ? -mant : mant;
    const bits = bitLength(m);
    if (bits > PRECISION) {
      const shift = bits - PRECISION;
      const rem = m & ((1n << BigInt(shift)) - 1n);
      m >>= BigInt(shift);
      exp += shift;
      const half = 1n << BigInt(shift - 1);
      if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
      if (bitLength(m) > PRECISION) {
        m >>= 1n;
        exp += 1;
      }
    }
    while (m !== 0n && (m & 1n) === 0n) {
      m >>= 1n;
      exp += 1;
    }
    return new Num(neg ? -m : m, exp);
  }

  static fromBigInt(i: bigint): Num {
    return Num.make(i, 0);
  }

  static fromNumber(n: number): Num {
    if (!Number.isFinite(n)) throw new NumError("number is not finite");
    if (Number.isInteger(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER) return Num.fromBigInt(BigInt(n));
    const parsed = Num.parse(String(n));
    if (!parsed) throw new NumError(`cannot represent ${n}`);
    return parsed;
  }

  /** Parses a decimal literal (optionally signed, with fraction and exponent); undefined if malformed. */
  static parse(text: string): Num | undefined {
    const m = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
    if (!m) {
      const m2 = /^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/.exec(text.trim());
      if (!m2) return undefined;
      return Num.parse(`${m2[1]}0.${m2[2]}${m2[3] ? "e" + m2[3] : ""}`);
    }
    const digits = (m[2] ?? "") + (m[3] ?? "");
    let dexp = (m[4] ? parseInt(m[4], 10) : 0) - (m[3]?.length ?? 0);
    if (Math.abs(dexp) > 100000) throw new NumError("number exponent out of range");
    let d = BigInt(digits);
    if (m[1] === "-") d = -d;
    return Num.fromDecimal(d, dexp);
  }

  /** d * 10^dexp, correctly rounded. */
  static fromDecimal(d: bigint, dexp: number): Num {
    if (d === 0n) return Num.ZERO;
    if (dexp >= 0) return Num.make(d * 10n ** BigInt(dexp), 0);
    return divRound(d, 10n ** BigInt(-dexp), 0);
  }

  isZero(): boolean {
    return this.mant === 0n;
  }
  sign(): number {
    return this.mant === 0n ? 0 : this.mant < 0n ? -1 : 1;
  }
  isInteger(): boolean {
    return this.exp >= 0 || this.mant === 0n;
  }

  add(o: Num): Num {
    if (this.mant === 0n) return o;
    if (o.mant === 0n) return this;
    const e = Math.min(this.exp, o.exp);
    if (Math.abs(this.exp - o.exp) > 20000) {
      // Operands so far apart that the smaller only affects rounding: keep it as a sticky bit.
      const big = this.exp > o.exp ? this : o;
      const small = big === this ? o : this;
      const m = (big.mant << BigInt(PRECISION + 4)) + BigInt(small.sign());
      return Num.make(m, big.exp - PRECISION - 4);
    }
    return Num.make((this.mant << BigInt(this.exp - e)) + (o.mant << BigInt(o.exp - e)), e);
  }
  neg(): Num {
    return new Num(-this.mant, this.exp);
  }
  sub(o: Num): Num {
    return this.add(o.neg());
  }
  mul(o: Num): Num {
    return Num.make(this.mant * o.mant, this.exp + o.exp);
  }
  div(o: Num): Num {
    if (o.mant === 0n) throw new NumError("division by zero");
    if (this.mant === 0n) return Num.ZERO;
    return divRound(this.mant, o.mant, this.exp - o.exp);
  }
  abs(): Num {
    return this.mant < 0n ? this.neg() : this;
  }
  /** Truncates toward zero, like big.Float.Int. */
  trunc(): bigint {
    if (this.exp >= 0) return this.mant << BigInt(this.exp);
    const neg = this.mant < 0n;
    const m = neg ? -this.mant : this.mant;
    const t = m >> BigInt(-this.exp);
    return neg ? -t : t;
  }
  floor(): bigint {
    const t = this.trunc();
    if (this.mant < 0n && !Num.fromBigInt(t).eq(this)) return t - 1n;
    return t;
  }
  ceil(): bigint {
    const t = this.trunc();
    if (this.mant > 0n && !Num.fromBigInt(t).eq(this)) return t + 1n;
    return t;
  }
  /** cty's Modulo: |a - b*trunc(a/b)|. */
  mod(o: Num): Num {
    if (o.mant === 0n) throw new NumError("division by zero");
    const q = this.div(o).trunc();
    const work = o.mul(Num.fromBigInt(q));
    return this.sub(work).abs();
  }
  cmp(o: Num): number {
    const d = this.sub(o);
    return d.sign();
  }
  eq(o: Num): boolean {
    return this.mant === o.mant && this.exp === o.exp;
  }

  /** Exact decimal expansion as [digits bigint, decimal exponent]. */
  private exactDecimal(): [bigint, number] {
    if (this.exp >= 0) return [this.mant << BigInt(this.exp), 0];
    // m / 2^k = m * 5^k / 10^k
    const k = -this.exp;
    return [this.mant * 5n ** BigInt(k), -k];
  }

  /** Shortest decimal text that reads back to the same value (big.Float Text('f', -1)). */
  toString(): string {
    if (this.mant === 0n) return "0";
    if (this.exp >= 0) return (this.mant << BigInt(this.exp)).toString();
    const [digits, dexp] = this.exactDecimal();
    const neg = digits < 0n;
    const abs = neg ? -digits : digits;
    const full = abs.toString();
    // Find the smallest number of significant digits that round-trips (binary search; the property is
    // monotone for correctly rounded parsing).
    let lo = 1;
    let hi = full.length;
    let best: [bigint, number] = [abs, dexp];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const cand = roundDigits(abs, full.length, mid);
      const candExp = dexp + (full.length - mid);
      const back = Num.fromDecimal(neg ? -cand : cand, candExp);
      if (back.eq(this)) {
        best = [cand, candExp];
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return (neg ? "-" : "") + formatFixed(best[0], best[1]);
  }

  /** Nearest JS number (for JSON output and functions that work in float64). */
  toNumber(): number {
    return Number(this.toString());
  }
  /** Value as a safe JS integer, or undefined when not an integer or too large. */
  toSafeInteger(): number | undefined {
    if (!this.isInteger()) return undefined;
    const i = this.trunc();
    if (i > BigInt(Number.MAX_SAFE_INTEGER) || i < -BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    return Number(i);
  }
}

function bitLength(m: bigint): number {
  if (m === 0n) return 0;
  if (m < 0n) m = -m;
  // Hex is 4x shorter than binary; the leading digit tells how many of its 4 bits are used.
  const hex = m.toString(16);
  const lead = parseInt(hex[0]!, 16);
  return (hex.length - 1) * 4 + (lead >= 8 ? 4 : lead >= 4 ? 3 : lead >= 2 ? 2 : 1);
}

/** Rounds (a / b) * 2^exp to PRECISION bits. */
function divRound(a: bigint, b: bigint, exp: number): Num {
  const neg = a < 0n !== b < 0n;
  const aa = a < 0n ? -a : a;
  const bb = b < 0n ? -b : b;
  // Shift so that the quotient has at least PRECISION + 2 bits.
  const shift = Math.max(0, PRECISION + 2 - (bitLength(aa) - bitLength(bb)));
  const num = aa << BigInt(shift);
  const q = num / bb;
  const r = num % bb;
  // Fold the remainder into a sticky bit below the quotient.
  const m = (q << 1n) | (r !== 0n ? 1n : 0n);
  const res = Num.make(m, exp - shift - 1);
  return neg ? res.neg() : res;
}

function roundDigits(abs: bigint, len: number, keep: number): bigint {
  if (keep >= len) return abs;
  const p = 10n ** BigInt(len - keep);
  const q = abs / p;
  const r = abs % p;
  const twice = r * 2n;
  if (twice > p || (twice === p && (q & 1n) === 1n)) return q + 1n;
  return q;
}

function formatFixed(digits: bigint, dexp: number): string {
  let s = digits.toString();
  if (dexp >= 0) return s + "0".repeat(dexp);
  const k = -dexp;
  if (s.length <= k) s = "0".repeat(k - s.length + 1) + s;
  let int = s.slice(0, s.length - k);
  let frac = s.slice(s.length - k).replace(/0+$/, "");
  if (int === "") int = "0";
  return frac ? `${int}.${frac}` : int;
}
