// Encoding, hashing and UUID functions.
import { createHash, createPrivateKey, randomUUID } from "node:crypto";
import type { HclFunction } from "../context.ts";
import { T } from "../types.ts";
import { V, Value } from "../value.ts";
import { checkStringLength, LIMITS } from "../../values/limits.ts";
import { builtSize, FunctionError, fn, int, p } from "./helpers.ts";
import { jsonDecode, jsonEncode, yamlDecode, yamlEncode } from "./json-codec.ts";

const hash = (alg: string) =>
  fn([p("str", T.string)], ([s]) => V.string(createHash(alg).update(s!.str, "utf8").digest("hex")), { returnType: () => T.string });

function base64Decode(s: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new FunctionError(`failed to decode base64 data ${JSON.stringify(s.length > 10 ? s.slice(0, 10) + "..." : s)}`, 0);
  }
  const bytes = Buffer.from(s, "base64");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FunctionError("the result of decoding the provided string is not valid UTF-8", 0);
  }
}

/** Go's url.QueryEscape with spaces as %20, as Packer's urlencode does. */
function queryEscape(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "%20";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** RFC 4180 CSV with a header row, like Go's encoding/csv. */
function csvDecode(src: string): Value {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  let line = 1;
  const endField = () => {
    row.push(field);
    field = "";
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0] === "")) rows.push(row);
    row = [];
    line++;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      i++;
    } else if (c === ",") {
      endField();
      i++;
    } else if (c === "\r" && src[i + 1] === "\n") {
      endRow();
      i += 2;
    } else if (c === "\n") {
      endRow();
      i++;
    } else {
      if (c === '"') throw new FunctionError(`parse error on line ${line}, column ${field.length + 1}: bare " in non-quoted-field`);
      field += c;
      i++;
    }
  }
  if (quoted) throw new FunctionError(`parse error on line ${line}: extraneous or missing " in quoted-field`);
  if (field !== "" || row.length > 0) endRow();
  if (rows.length === 0) throw new FunctionError("missing header line");
  const header = rows[0]!;
  const out: Value[] = [];
  rows.slice(1).forEach((r, ri) => {
    if (r.length !== header.length) throw new FunctionError(`record on line ${ri + 2}: wrong number of fields`);
    const m = new Map<string, Value>();
    header.forEach((h, hi) => m.set(h, V.string(r[hi]!)));
    out.push(V.object(m));
  });
  const attrs: Record<string, typeof T.string> = {};
  for (const h of header) attrs[h] = T.string;
  return V.list(out, T.object(attrs));
}

function b64urlToBigInt(s: string): bigint {
  return BigInt("0x" + (Buffer.from(s, "base64url").toString("hex") || "0"));
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/**
 * RSA PKCS#1 v1.5 decryption, as Go's rsa.DecryptPKCS1v15 (what Packer's rsadecrypt uses).
 * Bun's node:crypto refuses this padding for private decryption, so it is done here with bigints.
 */
function rsaPkcs1Decrypt(pem: string, ct: Buffer): Buffer {
  const jwk = createPrivateKey(pem).export({ format: "jwk" }) as { n?: string; d?: string };
  if (!jwk.n || !jwk.d) throw new Error("not an RSA private key");
  const n = b64urlToBigInt(jwk.n);
  const d = b64urlToBigInt(jwk.d);
  const k = Buffer.from(jwk.n, "base64url").length;
  if (ct.length !== k) throw new Error("crypto/rsa: decryption error");
  const m = modPow(BigInt("0x" + ct.toString("hex")), d, n);
  const em = Buffer.from(m.toString(16).padStart(k * 2, "0"), "hex");
  if (em[0] !== 0 || em[1] !== 2) throw new Error("crypto/rsa: decryption error");
  const sep = em.indexOf(0, 2);
  if (sep < 10) throw new Error("crypto/rsa: decryption error");
  return em.subarray(sep + 1);
}

const NAMESPACES: Record<string, string> = {
  dns: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  url: "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
  oid: "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
  x500: "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
};

export function uuidV5(namespace: string, name: string): string {
  const ns = NAMESPACES[namespace] ?? namespace;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ns)) {
    throw new FunctionError(`uuidv5() doesn't support namespace ${namespace} (invalid UUID)`, 0);
  }
  const nsBytes = Buffer.from(ns.replace(/-/g, ""), "hex");
  const h = createHash("sha1").update(nsBytes).update(Buffer.from(name, "utf8")).digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export const encodingFunctions: Record<string, HclFunction> = {
  base64encode: fn([p("str", T.string)], ([s]) => V.string(Buffer.from(s!.str, "utf8").toString("base64"))),
  base64decode: fn([p("str", T.string)], ([s]) => V.string(base64Decode(s!.str))),
  urlencode: fn([p("str", T.string)], ([s]) => V.string(queryEscape(s!.str))),
  csvdecode: fn([p("str", T.string)], ([s]) => csvDecode(s!.str)),
  jsonencode: fn([p("val", T.dynamic, { allowNull: true })], ([v]) => V.string(jsonEncode(bounded(v!, "jsonencode"))), { returnType: () => T.string }),
  jsondecode: fn([p("str", T.string)], ([s]) => jsonDecode(s!.str)),
  yamlencode: fn([p("value", T.dynamic, { allowNull: true })], ([v]) => V.string(yamlEncode(bounded(v!, "yamlencode"))), { returnType: () => T.string }),
  yamldecode: fn([p("src", T.string)], ([s]) => yamlDecode(s!.str)),
  md5: hash("md5"),
  sha1: hash("sha1"),
  sha256: hash("sha256"),
  sha512: hash("sha512"),
  bcrypt: fn(
    [p("str", T.string)],
    ([s, c]) => {
      const cost = c ? int(c, 1, "cost") : 10;
      if (cost < 4 || cost > 31) throw new FunctionError(`crypto/bcrypt: cost ${cost} is outside allowed range (4,31)`, 1);
      // Bun implements bcrypt; Go's library writes the $2a$ prefix for the same hash.
      const h = Bun.password.hashSync(s!.str, { algorithm: "bcrypt", cost });
      return V.string(h.replace(/^\$2b\$/, "$2a$"));
    },
    { varParam: p("cost", T.number), returnType: () => T.string },
  ),
  rsadecrypt: fn([p("ciphertext", T.string), p("privatekey", T.string)], ([ct, key]) => {
    const bytes = Buffer.from(ct!.str, "base64");
    if (bytes.length === 0 && ct!.str !== "") throw new FunctionError("failed to decode input: illegal base64 data", 0);
    let out: Buffer;
    try {
      out = rsaPkcs1Decrypt(key!.str, bytes);
    } catch (e) {
      throw new FunctionError(`failed to decrypt: ${(e as Error).message}`);
    }
    return V.string(out.toString("utf8"));
  }),
  uuidv4: fn([], () => V.string(randomUUID())),
  uuidv5: fn([p("namespace", T.string), p("name", T.string)], ([ns, n]) => V.string(uuidV5(ns!.str, n!.str))),
};

/** Refuses a value whose encoding would be over the string limit before encoding it (shared parts count each time). */
function bounded(v: Value, what: string): Value {
  checkStringLength(builtSize(v, LIMITS.maxStringLength), `the result of ${what}()`);
  return v;
}
