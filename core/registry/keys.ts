// Ed25519 keys through node:crypto (Bun implements it natively). A key's id is the sha256 of the
// canonical JSON of its public form, so an id can never name two different keys.
import { describeIssues } from "../errors/valibot-issues.ts";
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import * as v from "valibot";
import { canonicalBytes } from "./canonical-json.ts";
import { RegistryError } from "./errors.ts";
import { sha256Hex } from "./hashing.ts";
import { PrivateKeyFileSchema, PublicKeySchema, type PrivateKeyFile, type PublicKey } from "./schema.ts";

export function keyId(key: PublicKey): string {
  return sha256Hex(canonicalBytes({ keytype: key.keytype, public: key.public }));
}

export function generateKey(): PrivateKeyFile {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  const pub: PublicKey = { keytype: "ed25519", public: Buffer.from(jwk.x as string, "base64url").toString("hex") };
  return {
    keytype: "ed25519",
    keyid: keyId(pub),
    public: pub.public,
    private: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

export function publicOf(key: PrivateKeyFile | PublicKey): PublicKey {
  return { keytype: "ed25519", public: key.public };
}

export function signBytes(key: PrivateKeyFile, bytes: Uint8Array): string {
  return sign(null, bytes, createPrivateKey(key.private)).toString("hex");
}

export function verifyBytes(key: PublicKey, bytes: Uint8Array, sigHex: string): boolean {
  try {
    const pk = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(key.public, "hex").toString("base64url") },
      format: "jwk",
    });
    return verify(null, bytes, pk, Buffer.from(sigHex, "hex"));
  } catch {
    return false;
  }
}

/** Writes `<prefix>.key` (private, mode 0600) and `<prefix>.pub`; returns the key id. */
export async function writeKeyPair(prefix: string): Promise<{ keyid: string; privatePath: string; publicPath: string }> {
  const key = generateKey();
  const privatePath = `${prefix}.key`;
  const publicPath = `${prefix}.pub`;
  await writeFile(privatePath, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: "wx" }).catch((e: unknown) => {
    throw new RegistryError("usage", `cannot write ${privatePath}: ${(e as Error).message}`);
  });
  await chmod(privatePath, 0o600);
  await writeFile(publicPath, `${JSON.stringify(publicOf(key), null, 2)}\n`);
  return { keyid: key.keyid, privatePath, publicPath };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new RegistryError("usage", `cannot read key file ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RegistryError("usage", `key file ${path} is not JSON`);
  }
}

export async function readPrivateKey(path: string): Promise<PrivateKeyFile> {
  return parsePrivateKey(await readJson(path), path);
}

/** Checks a private key given as a value (a key file's JSON, or the same text from an environment variable). */
export function parsePrivateKey(value: unknown, label: string): PrivateKeyFile {
  const r = v.safeParse(PrivateKeyFileSchema, value);
  if (!r.success) throw new RegistryError("usage", `${label} is not an imgb private key: ${describeIssues(r.issues)}`);
  if (keyId(r.output) !== r.output.keyid) throw new RegistryError("usage", `${label}: key id does not match the key`);
  return r.output;
}

/** Reads a public key from a `.pub` file, or the public half of a `.key` file. */
export async function readPublicKey(path: string): Promise<PublicKey> {
  const json = await readJson(path);
  const priv = v.safeParse(PrivateKeyFileSchema, json);
  if (priv.success) return publicOf(priv.output);
  const r = v.safeParse(PublicKeySchema, json);
  if (!r.success) throw new RegistryError("usage", `${path} is not an imgb public key: ${describeIssues(r.issues)}`);
  return r.output;
}
