// Reads one top-level field of a JSON object straight from its UTF-8 bytes, without building a Json
// tree. For the hot, tiny replies of pure host calls (`now` is called in loops): parsing a 60-byte
// reply into the Map-based tree cost four times the host call itself. Anything unusual (escaped
// keys, numbers that a double cannot take exactly from a short mantissa, malformed input) makes the
// reader give up, and the caller falls back to the full parser, so the answer is never wrong.

/** Where a top-level field's value starts and ends in `bytes`; `found` is false when absent or unreadable. */
export class FieldSpan {
  found: bool = false;
  /** The reader could not walk the object (malformed, escaped key): use the full parser. */
  unreadable: bool = false;
  /** The object has a top-level "error" key (a host error reply). */
  hasError: bool = false;
  start: i32 = 0;
  end: i32 = 0;
}

const ERROR_KEY: StaticArray<u8> = [0x65, 0x72, 0x72, 0x6f, 0x72]; // error

const QUOTE: u8 = 0x22;
const BACKSLASH: u8 = 0x5c;

function isSpace(c: u8): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

function skipSpace(b: Uint8Array, i: i32): i32 {
  while (i < b.length && isSpace(unchecked(b[i]))) i++;
  return i;
}

/** The index after the string starting at `i` (a quote), or -1. */
function skipString(b: Uint8Array, i: i32): i32 {
  i++;
  while (i < b.length) {
    const c = unchecked(b[i]);
    if (c == BACKSLASH) i += 2;
    else if (c == QUOTE) return i + 1;
    else i++;
  }
  return -1;
}

/** The index after the value starting at `i`, or -1. Nested values are walked by depth, strings skipped whole. */
function skipValue(b: Uint8Array, i: i32): i32 {
  if (i >= b.length) return -1;
  const c = unchecked(b[i]);
  if (c == QUOTE) return skipString(b, i);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (i < b.length) {
      const d = unchecked(b[i]);
      if (d == QUOTE) {
        i = skipString(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  const start = i;
  while (i < b.length) {
    const d = unchecked(b[i]);
    if (d == 0x2c || d == 0x7d || d == 0x5d || isSpace(d)) break;
    i++;
  }
  return i > start ? i : -1;
}

/** Whether the key spelled by b[start, end) (no escapes) equals `key`. */
function keyEquals(b: Uint8Array, start: i32, end: i32, key: Uint8Array): bool {
  if (end - start != key.length) return false;
  for (let k = 0; k < key.length; k++) if (unchecked(b[start + k]) != unchecked(key[k])) return false;
  return true;
}

function isErrorKey(b: Uint8Array, start: i32, end: i32): bool {
  if (end - start != ERROR_KEY.length) return false;
  for (let k = 0; k < ERROR_KEY.length; k++) if (unchecked(b[start + k]) != unchecked(ERROR_KEY[k])) return false;
  return true;
}

/** Finds the top-level field `key` (ASCII) of the object in `bytes`. */
export function findField(bytes: Uint8Array, key: Uint8Array): FieldSpan {
  const span = new FieldSpan();
  let i = skipSpace(bytes, 0);
  if (i >= bytes.length || unchecked(bytes[i]) != 0x7b) {
    span.unreadable = true;
    return span;
  }
  i = skipSpace(bytes, i + 1);
  if (i < bytes.length && unchecked(bytes[i]) == 0x7d && skipSpace(bytes, i + 1) == bytes.length) return span;
  while (i < bytes.length) {
    if (unchecked(bytes[i]) != QUOTE) break;
    const keyStart = i + 1;
    const keyEnd = skipString(bytes, i);
    if (keyEnd < 0) break;
    for (let k = keyStart; k < keyEnd - 1; k++) {
      if (unchecked(bytes[k]) == BACKSLASH) {
        span.unreadable = true;
        return span;
      }
    }
    i = skipSpace(bytes, keyEnd);
    if (i >= bytes.length || unchecked(bytes[i]) != 0x3a) break;
    i = skipSpace(bytes, i + 1);
    const valueEnd = skipValue(bytes, i);
    if (valueEnd < 0) break;
    // The walk goes on to the end: a truncated or trailing-garbage reply is the full parser's to report.
    if (isErrorKey(bytes, keyStart, keyEnd - 1)) span.hasError = true;
    if (!span.found && keyEquals(bytes, keyStart, keyEnd - 1, key)) {
      span.found = true;
      span.start = i;
      span.end = valueEnd;
    }
    i = skipSpace(bytes, valueEnd);
    if (i < bytes.length && unchecked(bytes[i]) == 0x2c) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (i < bytes.length && unchecked(bytes[i]) == 0x7d && skipSpace(bytes, i + 1) == bytes.length) return span;
    break;
  }
  span.found = false;
  span.unreadable = true;
  return span;
}

// Powers of ten a double holds exactly: a mantissa below 2^53 scaled by one of them is correctly rounded.
const EXACT_POW10: StaticArray<f64> = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_EXACT_MANTISSA: u64 = 9007199254740992; // 2^53

/**
 * The JSON number at b[start, end), or NaN when it is not one a short exact computation gives (then the
 * caller parses it the slow, general way). Plain decimals (`-12`, `1764771234567.125`) are the case this is for.
 */
export function exactNumber(b: Uint8Array, start: i32, end: i32): f64 {
  let i = start;
  let negative = false;
  if (i < end && unchecked(b[i]) == 0x2d) {
    negative = true;
    i++;
  }
  let mantissa: u64 = 0;
  let digits = 0;
  let fractionDigits = 0;
  let seenPoint = false;
  for (; i < end; i++) {
    const c = unchecked(b[i]);
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + u64(c - 0x30);
      digits++;
      if (seenPoint) fractionDigits++;
      if (mantissa >= MAX_EXACT_MANTISSA) return NaN;
    } else if (c == 0x2e && !seenPoint && digits > 0) {
      seenPoint = true;
    } else {
      return NaN; // exponents and anything else: the general parser
    }
  }
  if (digits == 0 || fractionDigits > 22) return NaN;
  const value = f64(mantissa) / unchecked(EXACT_POW10[fractionDigits]);
  return negative ? -value : value;
}
