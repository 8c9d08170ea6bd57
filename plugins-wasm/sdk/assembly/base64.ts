// Standard base64 (padded): byte strings travel inside JSON host-call messages in `*_base64` fields.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function base64Encode(data: Uint8Array): string {
  // One output buffer and one string: per-group strings cost ~10x the data in AssemblyScript.
  const n = data.length;
  const out = new Uint8Array(((n + 2) / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (u32(data[i]) << 16) | (u32(data[i + 1]) << 8) | u32(data[i + 2]);
    out[o++] = u8(ALPHABET.charCodeAt((v >> 18) & 63));
    out[o++] = u8(ALPHABET.charCodeAt((v >> 12) & 63));
    out[o++] = u8(ALPHABET.charCodeAt((v >> 6) & 63));
    out[o++] = u8(ALPHABET.charCodeAt(v & 63));
  }
  if (n - i == 1) {
    const v = u32(data[i]) << 16;
    out[o++] = u8(ALPHABET.charCodeAt((v >> 18) & 63));
    out[o++] = u8(ALPHABET.charCodeAt((v >> 12) & 63));
    out[o++] = 61;
    out[o++] = 61;
  } else if (n - i == 2) {
    const v = (u32(data[i]) << 16) | (u32(data[i + 1]) << 8);
    out[o++] = u8(ALPHABET.charCodeAt((v >> 18) & 63));
    out[o++] = u8(ALPHABET.charCodeAt((v >> 12) & 63));
    out[o++] = u8(ALPHABET.charCodeAt((v >> 6) & 63));
    out[o++] = 61;
  }
  return String.UTF8.decode(out.buffer);
}

function decodeChar(c: i32): i32 {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c == 43) return 62;
  if (c == 47) return 63;
  return -1;
}

export function base64Decode(s: string): Uint8Array {
  let len = s.length;
  while (len > 0 && s.charCodeAt(len - 1) == 61) len--;
  const out = new Uint8Array((len * 3) >> 2);
  let acc: u32 = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const d = decodeChar(s.charCodeAt(i));
    if (d < 0) continue;
    acc = (acc << 6) | u32(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < out.length) out[o++] = u8((acc >> bits) & 0xff);
    }
  }
  return out;
}

export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}
