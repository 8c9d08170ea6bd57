// Host keys: fingerprints, pins (ssh_host_key), OpenSSH known_hosts files. Pure functions; the
// decision of what to do with an unknown key is in host-key-policy.ts.
import { createHash, createHmac } from "node:crypto";

export interface HostKey {
  /** "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", ... */
  type: string;
  blob: Buffer;
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

/** "SHA256:..." as ssh-keygen -l prints it (base64 without padding). */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

export function describeKey(blob: Buffer): string {
  return `${keyTypeOf(blob)} ${fingerprint(blob)}`;
}

export type HostKeyPin = { kind: "key"; key: HostKey } | { kind: "fingerprint"; fingerprint: string };

/** Parses "ssh-ed25519 AAAA... [comment]" or "SHA256:..."; null if neither. */
export function parseHostKeyPin(text: string): HostKeyPin | null {
  const s = text.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(s)) return { kind: "fingerprint", fingerprint: s.replace(/=$/, "") };
  const parts = s.split(/\s+/);
  if (parts.length < 2) return null;
  const blob = Buffer.from(parts[1]!, "base64");
  if (blob.length < 8 || keyTypeOf(blob) !== parts[0]) return null;
  return { kind: "key", key: { type: parts[0]!, blob } };
}

export function pinMatches(pin: HostKeyPin, blob: Buffer): boolean {
  return pin.kind === "fingerprint" ? pin.fingerprint === fingerprint(blob) : pin.key.blob.equals(blob);
}

export function describePin(pin: HostKeyPin): string {
  return pin.kind === "fingerprint" ? pin.fingerprint : describeKey(pin.key.blob);
}

export interface KnownHostEntry {
  line: number;
  marker?: "@cert-authority" | "@revoked";
  patterns: string;
  key: HostKey;
}

/** Parses an OpenSSH known_hosts file; malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"];
    if (fields[0] === "@cert-authority" || fields[0] === "@revoked") marker = fields.shift() as KnownHostEntry["marker"];
    const [patterns, type, b64] = fields;
    if (!patterns || !type || !b64) return;
    const blob = Buffer.from(b64, "base64");
    if (keyTypeOf(blob) !== type) return;
    const entry: KnownHostEntry = { line: i + 1, patterns, key: { type, blob } };
    if (marker) entry.marker = marker;
    out.push(entry);
  });
  return out;
}

/** The name known_hosts stores for a host: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Does a known_hosts host field ("a,b,!c", "*.example", "|1|salt|hash") name this host? */
export function hostFieldMatches(field: string, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    const mac = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return mac === hash;
  }
  let matched = false;
  for (const pat of field.split(",")) {
    const negated = pat.startsWith("!");
    const p = negated ? pat.slice(1) : pat;
    if (globMatch(p.toLowerCase(), name.toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return re.test(text);
}

export type KnownHostsVerdict =
  | { kind: "match"; entry: KnownHostEntry }
  | { kind: "revoked"; entry: KnownHostEntry }
  | { kind: "mismatch"; known: KnownHostEntry[] }
  | { kind: "unknown" };

/** OpenSSH's check: a revoked key is refused; the host's recorded keys either contain this one or it changed. */
export function checkKnownHosts(entries: KnownHostEntry[], host: string, port: number, blob: Buffer): KnownHostsVerdict {
  const revoked = entries.find((e) => e.marker === "@revoked" && e.key.blob.equals(blob));
  if (revoked) return { kind: "revoked", entry: revoked };
  const forHost = entries.filter((e) => !e.marker && hostFieldMatches(e.patterns, host, port));
  const hit = forHost.find((e) => e.key.blob.equals(blob));
  if (hit) return { kind: "match", entry: hit };
  return forHost.length ? { kind: "mismatch", known: forHost } : { kind: "unknown" };
}

/** Key types recorded for a host, to ask the server for those first (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  return [...new Set(entries.filter((e) => !e.marker && hostFieldMatches(e.patterns, host, port)).map((e) => e.key.type))];
}
