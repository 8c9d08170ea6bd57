// The registry's documents, validated with valibot at the boundary (bytes from the network, files
// from disk). Nothing past `parseDocument` sees unvalidated data.
//
// A signed document is an envelope: `{ "signed": {...}, "signatures": [{ "keyid", "sig" }] }`;
// signatures cover canonicalJson(signed) (see canonical-json.ts).
import * as v from "valibot";
import { isValidPluginName } from "./names.ts";
import { isSemVer } from "./semver.ts";
import { SHA256_HEX } from "./hashing.ts";
import { KNOWN_CAPABILITIES } from "./capabilities.ts";

export const SPEC_VERSION = "imgb-registry/1";
export const PLUGIN_ABI = "imgb-plugin/1";

const Hex64 = v.pipe(v.string(), v.regex(SHA256_HEX, "expected 64 lowercase hex digits"));
const Version = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const Timestamp = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/, "expected an ISO-8601 UTC time"),
  v.check((s) => !Number.isNaN(Date.parse(s)), "expected a valid time"),
);
const PluginName = v.pipe(
  v.string(),
  v.check(isValidPluginName, 'expected "namespace/name" of lowercase letters, digits and hyphens'),
);
const SemVerString = v.pipe(v.string(), v.check(isSemVer, "expected a semantic version"));
export const CapabilityName = v.picklist(KNOWN_CAPABILITIES, `expected one of ${KNOWN_CAPABILITIES.join(", ")}`);

export const PublicKeySchema = v.strictObject({
  keytype: v.literal("ed25519"),
  /** Raw 32-byte public key, hex. */
  public: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "expected a 32-byte hex public key")),
});
export type PublicKey = v.InferOutput<typeof PublicKeySchema>;

export const PrivateKeyFileSchema = v.strictObject({
  keytype: v.literal("ed25519"),
  keyid: Hex64,
  public: PublicKeySchema.entries.public,
  /** PKCS#8 PEM. */
  private: v.pipe(v.string(), v.startsWith("-----BEGIN PRIVATE KEY-----")),
});
export type PrivateKeyFile = v.InferOutput<typeof PrivateKeyFileSchema>;

export const SignatureSchema = v.strictObject({
  keyid: Hex64,
  sig: v.pipe(v.string(), v.regex(/^[0-9a-f]{128}$/, "expected a 64-byte hex signature")),
});
export type Signature = v.InferOutput<typeof SignatureSchema>;

const RoleSchema = v.strictObject({
  keyids: v.pipe(v.array(Hex64), v.minLength(1)),
  threshold: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
});
export type Role = v.InferOutput<typeof RoleSchema>;

/**
 * The signed part of a role's metadata: the header every role shares (its type, the spec version, a
 * version number that only grows, an expiry) and the role's own entries.
 */
function signedRoleSchema<const T extends string, const E extends v.ObjectEntries>(type: T, entries: E) {
  return v.strictObject({ _type: v.literal(type), spec: v.literal(SPEC_VERSION), version: Version, expires: Timestamp, ...entries });
}

export const RootSignedSchema = signedRoleSchema("root", {
  keys: v.record(Hex64, PublicKeySchema),
  roles: v.strictObject({ root: RoleSchema, index: RoleSchema, timestamp: RoleSchema }),
});
export type RootSigned = v.InferOutput<typeof RootSignedSchema>;
export type RoleName = keyof RootSigned["roles"];

export const VettingSchema = v.strictObject({
  reviewer: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  repository: v.pipe(v.string(), v.minLength(1), v.maxLength(500)),
  commit: v.pipe(v.string(), v.regex(/^[0-9a-f]{7,64}$/, "expected a commit hash")),
  date: Timestamp,
  /** Which checks of `imgb registry vet` ran and passed (absent in records made before vetting was automated). */
  checks: v.optional(v.array(v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,40}$/)))),
  /** The reviewer's note, required by the registry's policy for some capabilities (e.g. local_exec). */
  note: v.optional(v.pipe(v.string(), v.maxLength(2000))),
});
export type Vetting = v.InferOutput<typeof VettingSchema>;

export const LimitsSchema = v.strictObject({
  memoryMiB: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(4096)),
  cpuMs: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(24 * 3600 * 1000)),
});
export type Limits = v.InferOutput<typeof LimitsSchema>;

/** What a publisher signs: identity, bytes, and what the plugin may do. */
export const PublisherStatementSchema = v.strictObject({
  name: PluginName,
  version: SemVerString,
  abi: v.literal(PLUGIN_ABI),
  wasm: v.strictObject({ sha256: Hex64, size: v.pipe(v.number(), v.safeInteger(), v.minValue(8)) }),
  capabilities: v.array(CapabilityName),
  limits: LimitsSchema,
});
export type PublisherStatement = v.InferOutput<typeof PublisherStatementSchema>;

/** A publisher's signed statement: the output of `imgb registry sign`, the input of `publish`. */
export const SignedStatementSchema = v.strictObject({
  statement: PublisherStatementSchema,
  signature: SignatureSchema,
});
export type SignedStatement = v.InferOutput<typeof SignedStatementSchema>;

export const PluginVersionSchema = v.strictObject({
  ...PublisherStatementSchema.entries,
  publisher: SignatureSchema,
  vetting: VettingSchema,
  yanked: v.boolean(),
});
export type PluginVersion = v.InferOutput<typeof PluginVersionSchema>;

export const PublisherSchema = v.strictObject({
  ...PublicKeySchema.entries,
  /** Namespaces this key may publish in. */
  namespaces: v.pipe(v.array(v.pipe(v.string(), v.regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,63}$/))), v.minLength(1)),
});
export type Publisher = v.InferOutput<typeof PublisherSchema>;

export const IndexSignedSchema = signedRoleSchema("index", {
  publishers: v.record(Hex64, PublisherSchema),
  plugins: v.record(PluginName, v.strictObject({ versions: v.record(SemVerString, PluginVersionSchema) })),
  /** Packer source addresses (lowercased) this registry serves under another name: "github.com/acme/packer-motd" → "acme/motd". */
  aliases: v.optional(v.record(v.pipe(v.string(), v.maxLength(300)), PluginName)),
});
export type IndexSigned = v.InferOutput<typeof IndexSignedSchema>;

export const TimestampSignedSchema = signedRoleSchema("timestamp", {
  index: v.strictObject({ version: Version, sha256: Hex64, length: v.pipe(v.number(), v.safeInteger(), v.minValue(1)) }),
});
export type TimestampSigned = v.InferOutput<typeof TimestampSignedSchema>;

export function envelopeSchema<T extends v.GenericSchema>(signed: T) {
  return v.strictObject({ signed, signatures: v.array(SignatureSchema) });
}
export const RootEnvelopeSchema = envelopeSchema(RootSignedSchema);
export const IndexEnvelopeSchema = envelopeSchema(IndexSignedSchema);
export const TimestampEnvelopeSchema = envelopeSchema(TimestampSignedSchema);
export type Envelope<T> = { signed: T; signatures: Signature[] };
export type RootEnvelope = Envelope<RootSigned>;
export type IndexEnvelope = Envelope<IndexSigned>;
export type TimestampEnvelope = Envelope<TimestampSigned>;

