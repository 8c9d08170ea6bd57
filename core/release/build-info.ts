// What a binary knows about itself: version, commit, build date, target and, for release builds, the
// release public key and the default release location (for `imgb self-update`). scripts/compile.ts and
// scripts/release.ts inject them with `bun build --define IMGB_BUILD_INFO=...`; run from source
// (`bun run cmd/main.ts`) nothing is injected and the facts come from the running process.
import * as v from "valibot";
import { IMGB_VERSION } from "../version.ts";

declare const IMGB_BUILD_INFO: string | undefined;

const InjectedSchema = v.strictObject({
  version: v.string(),
  commit: v.string(),
  date: v.string(),
  target: v.string(),
  /** Hex Ed25519 public key the release's SHA256SUMS is signed with (release builds only). */
  releaseKey: v.optional(v.string()),
  /** Where `imgb self-update` looks when neither --base-url nor IMGB_RELEASE_URL is given. */
  releaseUrl: v.optional(v.string()),
});
export type BuildInfo = v.InferOutput<typeof InjectedSchema>;

/** The target name of the running process, in release names' terms (linux-x64, darwin-arm64, ...). */
export function hostTarget(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `${os}-${process.arch}`;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const injected = typeof IMGB_BUILD_INFO === "string" ? v.safeParse(InjectedSchema, JSON.parse(IMGB_BUILD_INFO)) : undefined;
  cached = injected?.success ? injected.output : { version: IMGB_VERSION, commit: "dev", date: "", target: hostTarget() };
  return cached;
}

/** `imgb v0.2.0 (abc1234, 2026-12-03, linux-arm64)`. */
export function versionLine(info: BuildInfo = buildInfo()): string {
  const facts = [info.commit, info.date, info.target].filter((s) => s !== "");
  return `imgb v${info.version} (${facts.join(", ")})`;
}
