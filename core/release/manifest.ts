// The layout of a release folder, shared by scripts/release.ts (which writes it), `imgb self-update`
// (which reads it) and scripts/install.sh (which reads SHA256SUMS):
//   imgb-VERSION-OS-ARCH[.exe]  one binary per target
//   release.json                 version, commit, date and each target's file (listed in SHA256SUMS)
//   SHA256SUMS                   "HEX  NAME" lines, sorted by name, for every other file
//   SHA256SUMS.sig               raw 64-byte Ed25519 signature of SHA256SUMS by the release key
//   release-key.pem              the release public key (SPKI PEM, for openssl); also pinned in install.sh
import * as v from "valibot";

export const SUMS = "SHA256SUMS";
export const SUMS_SIG = "SHA256SUMS.sig";
export const RELEASE_JSON = "release.json";

export const ReleaseSchema = v.strictObject({
  version: v.string(),
  commit: v.string(),
  date: v.string(),
  files: v.record(v.string(), v.strictObject({ name: v.string(), sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)), size: v.number() })),
});
export type Release = v.InferOutput<typeof ReleaseSchema>;

export function binaryName(version: string, target: string): string {
  return `imgb-${version}-${target}${target.startsWith("windows-") ? ".exe" : ""}`;
}

/** SHA256SUMS text: sorted by name so two builds of one commit write the same bytes. */
export function formatSums(entries: { name: string; sha256: string }[]): string {
  return [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.name}\n`)
    .join("");
}

export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
    if (!m) throw new Error(`${SUMS}: malformed line ${JSON.stringify(line.slice(0, 120))}`);
    out.set(m[2]!, m[1]!);
  }
  return out;
}
