// Signing and verifying envelopes against a role: a document is trusted when at least `threshold`
// distinct keys of the role produced a valid signature over canonicalJson(signed). Signatures by
// keys outside the role are ignored for the count; if none of the role's keys signed at all the
// message says "unknown key" so a user can tell a wrong key from a broken signature.
import { canonicalBytes } from "./canonical-json.ts";
import { keyId, signBytes, verifyBytes } from "./keys.ts";
import type { Envelope, PrivateKeyFile, PublicKey, Role, Signature } from "./schema.ts";
import type { JsonValue } from "../values/json.ts";

export function signEnvelope<T extends JsonValue>(signed: T, keys: PrivateKeyFile[]): Envelope<T> {
  const bytes = canonicalBytes(signed);
  const seen = new Set<string>();
  const signatures: Signature[] = [];
  for (const k of keys) {
    if (seen.has(k.keyid)) continue;
    seen.add(k.keyid);
    signatures.push({ keyid: k.keyid, sig: signBytes(k, bytes) });
  }
  return { signed, signatures };
}

export type ThresholdResult = { ok: true } | { ok: false; reason: string };

export function checkThreshold(
  signed: JsonValue,
  signatures: readonly Signature[],
  role: Role,
  keys: Record<string, PublicKey>,
  roleLabel: string,
): ThresholdResult {
  const bytes = canonicalBytes(signed);
  const valid = new Set<string>();
  let fromRoleKeys = 0;
  let invalid = 0;
  for (const s of signatures) {
    if (!role.keyids.includes(s.keyid)) continue;
    const key = keys[s.keyid];
    if (!key || keyId(key) !== s.keyid) continue;
    fromRoleKeys++;
    if (verifyBytes(key, bytes, s.sig)) valid.add(s.keyid);
    else invalid++;
  }
  if (valid.size >= role.threshold) return { ok: true };
  if (signatures.length === 0) return { ok: false, reason: `${roleLabel} is not signed` };
  if (fromRoleKeys === 0) {
    const ids = signatures.map((s) => s.keyid.slice(0, 12)).join(", ");
    return { ok: false, reason: `${roleLabel} is signed only by unknown keys (${ids}); none is a trusted ${roleLabel} key` };
  }
  return {
    ok: false,
    reason: `${roleLabel} has ${valid.size} valid signature(s) of the ${role.threshold} required${invalid > 0 ? ` (${invalid} invalid: bad signature)` : ""}`,
  };
}
