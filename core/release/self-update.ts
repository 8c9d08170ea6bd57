// `imgb self-update [--check]`: opt-in, never automatic. Trust starts from the release public key
// compiled into the binary: SHA256SUMS must carry a valid signature by that key, release.json and the
// new binary must match their lines in it, and the version must be newer than the running one. The
// binary is written beside the running one and renamed over it, so an interrupted update leaves the
// old binary in place.
import { chmod, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import * as v from "valibot";
import { UserError } from "../errors/diagnostic.ts";
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

async function fetchCapped(url: string, cap: number, deadlineMs: number): Promise<Uint8Array> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), deadlineMs);
  try {
    const res = await fetch(url, { signal: ctl.signal, redirect: "follow" });
    if (!res.ok) {
      await res.body?.cancel();
      throw new SelfUpdateError(`self-update: ${url}: HTTP ${res.status}`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of res.body ?? []) {
      total += chunk.byteLength;
      if (total > cap) throw new SelfUpdateError(`self-update: ${url} is larger than ${cap} bytes; refused`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (e) {
    if (e instanceof SelfUpdateError) throw e;
    const why = ctl.signal.aborted ? `not complete within ${deadlineMs / 1000} s` : (e as Error).message;
    throw new SelfUpdateError(`self-update: cannot fetch ${url}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** Fetches and verifies SHA256SUMS and release.json; returns the release and the checked sums. */
export async function fetchVerifiedRelease(baseUrl: string, releaseKey: string): Promise<{ release: Release; sums: Map<string, string> }> {
  const sumsBytes = await fetchCapped(baseUrl + SUMS, CAP.sums, DEADLINE_MS.small);
  const sig = await fetchCapped(baseUrl + SUMS_SIG, CAP.sig, DEADLINE_MS.small);
  if (!verifyBytes({ keytype: "ed25519", public: releaseKey }, sumsBytes, Buffer.from(sig).toString("hex"))) {
    throw new SelfUpdateError(`self-update: ${baseUrl}${SUMS} is not signed by this binary's release key; refused`);
  }
  let sums: Map<string, string>;
  try {
    sums = parseSums(new TextDecoder().decode(sumsBytes));
  } catch (e) {
    throw new SelfUpdateError(`self-update: ${(e as Error).message}`);
  }
  const indexBytes = await fetchCapped(baseUrl + RELEASE_JSON, CAP.index, DEADLINE_MS.small);
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
  const bytes = await fetchCapped(baseUrl + file.name, CAP.binary, DEADLINE_MS.binary);
  if (sha256(bytes) !== file.sha256) throw new SelfUpdateError(`self-update: ${file.name} does not match its checksum; refused, nothing replaced`);
  const target = o.executable ?? process.execPath;
  await replaceFile(target, bytes);
  o.say(`imgb updated: v${info.version} -> v${release.version} (${target})`);
}

/** Writes beside the target and renames over it: the old binary stays whole until the new one is. */
async function replaceFile(target: string, bytes: Uint8Array): Promise<void> {
  const mode = (await stat(target)).mode & 0o777;
  const tmp = join(dirname(target), `.${basename(target)}.update-${process.pid}`);
  try {
    await writeFile(tmp, bytes, { mode: 0o700 });
    await chmod(tmp, mode | 0o500);
    if (process.platform === "win32") {
      // A running .exe cannot be replaced, but it can be renamed out of the way.
      await rm(`${target}.old`, { force: true });
      await rename(target, `${target}.old`);
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new SelfUpdateError(`self-update: cannot replace ${target}: ${(e as Error).message}`);
  }
}
