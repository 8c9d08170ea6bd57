// `imgb self-update [--check]`: opt-in, never automatic. Trust starts from the release public key
// compiled into the binary: SHA256SUMS must carry a valid signature by that key, release.json and the
// new binary must match their lines in it, and the version must be newer than the running one. The
// binary is downloaded beside the running one (core/download's staged download: capped, never through
// a link) and renamed over it once its sum matched, so an interrupted update leaves the old binary in place.
import { chmod, rename, rm, stat } from "node:fs/promises";
import { basename } from "node:path";
import * as v from "valibot";
import { UserError } from "../errors/diagnostic.ts";
import { DEFAULT_TIMING, DownloadError, fetchBytes, fetchToFile } from "../download/fetch.ts";
import { verifyBytes } from "../registry/keys.ts";
import { compareSemVer, parseSemVer } from "../registry/semver.ts";
import { buildInfo, type BuildInfo } from "./build-info.ts";
import { parseSums, RELEASE_JSON, ReleaseSchema, SUMS, SUMS_SIG, type Release } from "./manifest.ts";

/** Caps on what a release server may send: nothing is read past them. */
const CAP = { sums: 64 * 1024, sig: 1024, index: 64 * 1024, binary: 512 * 1024 * 1024 };
/** Total time for one file: the binary gets longer, but never forever (a trickling server is cut off). */
const DEADLINE_MS = { small: 30_000, binary: 15 * 60_000 };

export interface SelfUpdateOptions {
  baseUrl?: string;
  check: boolean;
  /** The file to replace; the running binary by default. */
  executable?: string;
  say(line: string): void;
}

export class SelfUpdateError extends UserError {}

function baseUrlOf(o: SelfUpdateOptions, info: BuildInfo): string {
  const url = o.baseUrl ?? process.env.IMGB_RELEASE_URL ?? info.releaseUrl;
  if (!url) throw new SelfUpdateError("self-update: no release location: give --base-url URL or set IMGB_RELEASE_URL");
  return url.endsWith("/") ? url : `${url}/`;
}

/** A release file into memory under its cap; failures worded as self-update's. */
async function fetchSmall(url: string, cap: number): Promise<Uint8Array> {
  try {
    const bytes = await fetchBytes(url, { cap, what: basename(url), timing: { ...DEFAULT_TIMING, deadlineMs: DEADLINE_MS.small } });
    if (!bytes) throw new SelfUpdateError(`self-update: ${url}: HTTP 404`);
    return bytes;
  } catch (e) {
    throw asSelfUpdateError(e);
  }
}

function asSelfUpdateError(e: unknown): unknown {
  return e instanceof DownloadError ? new SelfUpdateError(`self-update: ${e.message}${e.kind === "too-large" ? "; refused" : ""}`) : e;
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** Fetches and verifies SHA256SUMS and release.json; returns the release and the checked sums. */
export async function fetchVerifiedRelease(baseUrl: string, releaseKey: string): Promise<{ release: Release; sums: Map<string, string> }> {
  const sumsBytes = await fetchSmall(baseUrl + SUMS, CAP.sums);
  const sig = await fetchSmall(baseUrl + SUMS_SIG, CAP.sig);
  if (!verifyBytes({ keytype: "ed25519", public: releaseKey }, sumsBytes, Buffer.from(sig).toString("hex"))) {
    throw new SelfUpdateError(`self-update: ${baseUrl}${SUMS} is not signed by this binary's release key; refused`);
  }
  let sums: Map<string, string>;
  try {
    sums = parseSums(new TextDecoder().decode(sumsBytes));
  } catch (e) {
    throw new SelfUpdateError(`self-update: ${(e as Error).message}`);
  }
  const indexBytes = await fetchSmall(baseUrl + RELEASE_JSON, CAP.index);
  if (sums.get(RELEASE_JSON) !== sha256(indexBytes)) throw new SelfUpdateError(`self-update: ${RELEASE_JSON} does not match ${SUMS}; refused`);
  const parsed = v.safeParse(ReleaseSchema, JSON.parse(new TextDecoder().decode(indexBytes)));
  if (!parsed.success) throw new SelfUpdateError(`self-update: ${RELEASE_JSON} is not a release index`);
  return { release: parsed.output, sums };
}

export async function selfUpdate(o: SelfUpdateOptions): Promise<void> {
  const info = buildInfo();
  if (!info.releaseKey) {
    throw new SelfUpdateError("self-update: this imgb was not built as a release (no release key inside); install a released binary to update it");
  }
  const baseUrl = baseUrlOf(o, info);
  const { release, sums } = await fetchVerifiedRelease(baseUrl, info.releaseKey);
  const current = parseSemVer(info.version);
  const offered = parseSemVer(release.version);
  if (!current || !offered) throw new SelfUpdateError(`self-update: cannot compare versions ${info.version} and ${release.version}`);
  const order = compareSemVer(offered, current);
  if (order < 0) throw new SelfUpdateError(`self-update: ${baseUrl} offers v${release.version}, older than this v${info.version}; refusing to downgrade`);
  if (order === 0) {
    o.say(`imgb v${info.version} is up to date (${baseUrl})`);
    return;
  }
  const file = release.files[info.target];
  if (!file) throw new SelfUpdateError(`self-update: release v${release.version} has no binary for ${info.target}`);
  if (o.check) {
    o.say(`imgb v${release.version} is available (this is v${info.version}); run "imgb self-update" to install it`);
    return;
  }
  if (sums.get(file.name) !== file.sha256) throw new SelfUpdateError(`self-update: ${file.name} in ${RELEASE_JSON} does not match ${SUMS}; refused`);
  const target = o.executable ?? process.execPath;
  await replaceFile(target, baseUrl + file.name, file.sha256);
  o.say(`imgb updated: v${info.version} -> v${release.version} (${target})`);
}

/**
 * Downloads the new binary beside the target (staged, capped, checked against its sum) and renames it
 * over the target: the old binary stays whole until the new one is.
 */
async function replaceFile(target: string, url: string, sha256: string): Promise<void> {
  const mode = (await stat(target)).mode & 0o777;
  try {
    await fetchToFile(url, target, {
      cap: CAP.binary,
      what: basename(url),
      timing: { ...DEFAULT_TIMING, deadlineMs: DEADLINE_MS.binary },
      hasher: () => new Bun.CryptoHasher("sha256"),
      mode: 0o700,
      async commit(digest, part) {
        if (digest !== sha256) throw new SelfUpdateError(`self-update: ${basename(url)} does not match its checksum; refused, nothing replaced`);
        try {
          await chmod(part, mode | 0o500);
          if (process.platform === "win32") {
            // A running .exe cannot be replaced, but it can be renamed out of the way.
            await rm(`${target}.old`, { force: true });
            await rename(target, `${target}.old`);
          }
        } catch (e) {
          throw new SelfUpdateError(`self-update: cannot replace ${target}: ${(e as Error).message}`);
        }
      },
    });
  } catch (e) {
    if (e instanceof DownloadError || e instanceof SelfUpdateError) throw asSelfUpdateError(e);
    throw new SelfUpdateError(`self-update: cannot replace ${target}: ${(e as Error).message}`);
  }
}
