// Packer's StepDownload (packer-plugin-sdk commonsteps): try each URL in turn; a local file (a path,
// relative to the working directory, or file://) is used in place after its checksum is checked; an
// http(s) URL is downloaded into the cache under Packer's name for it (sha1 of the checksum text, or
// of the URL when there is none, plus the extension), or to iso_target_path. The digest is computed
// while the bytes stream in, a dropped connection resumes with a Range request, and the file only
// takes its final name once the digest matched: a cancelled or failed download leaves nothing
// (core/download's staged download, shared with the registry and self-update).
import { existsSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import type { Ui } from "../../ui/types.ts";
import { hasher, resolveChecksum, type ChecksumSpec, type HashType } from "./checksum.ts";
import { Cancelled } from "../../errors/cancelled.ts";
import { DEFAULT_TIMING, fetchToFile } from "../../download/fetch.ts";

export interface DownloadOptions {
  urls: string[];
  checksum: ChecksumSpec;
  /** The checksum as written in the template: Packer names the cached file after it. */
  checksumText: string;
  /** iso_target_path: a file, or a folder (no extension) to hold the cached name. */
  targetPath?: string;
  /** iso_target_extension. */
  extension: string;
  /** What is fetched, for the UI ("ISO", "disk image"). */
  description: string;
  /** Relative paths and file: checksums are resolved from here (Packer: the working directory). */
  baseDir: string;
  ui: Ui;
  signal: AbortSignal;
}

export interface DownloadResult {
  path: string;
  source: string;
  /** True when the file came over the network in this run. */
  fetched: boolean;
}

/** Packer's cache folder: PACKER_CACHE_DIR, else $XDG_CACHE_HOME/imgb or ~/.cache/imgb. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PACKER_CACHE_DIR) return resolve(env.PACKER_CACHE_DIR);
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "imgb");
}

export function isRemote(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** A template's URL forms that name a local file: a path or file://. Anything else with a scheme is refused. */
export function urlProblem(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!scheme || scheme === "file" || scheme === "http" || scheme === "https") return undefined;
  return `unsupported URL scheme "${scheme}" in ${url} (http, https, file or a path)`;
}

export function localPath(url: string, baseDir: string): string {
  return resolve(baseDir, url.startsWith("file://") ? decodeURIComponent(url.slice("file://".length)) : url);
}

/** Where Packer would cache `url` (UseSourceToFindCacheTarget). */
export function cacheTarget(url: string, checksumText: string, extension: string, targetPath?: string): string {
  const hasSum = checksumText !== "" && checksumText.toLowerCase() !== "none";
  const key = hasSum ? checksumText : url;
  const name = new Bun.CryptoHasher("sha1").update(key).digest("hex");
  const file = extension ? `${name}.${extension}` : name;
  if (!targetPath) return join(cacheDir(), file);
  if (extname(targetPath) === "") return join(targetPath, extension ? file : `${name}.iso`);
  return resolve(targetPath);
}

/** Downloads in flight in this process, by target: parallel builds of one ISO share one download. */
const inFlight = new Map<string, Promise<DownloadResult>>();

export async function download(o: DownloadOptions): Promise<DownloadResult> {
  if (o.urls.length === 0) throw new Error(`no URL for the ${o.description}`);
  o.ui.say(`Retrieving ${o.description}`);
  const errors: string[] = [];
  for (const url of o.urls) {
    if (o.signal.aborted) throw new Cancelled("cancelled");
    o.ui.say(`Trying ${url}`);
    try {
      const r = isRemote(url) ? await remote(url, o) : await local(url, o);
      o.ui.say(`${url} => ${r.path}`);
      return r;
    } catch (err) {
      if (o.signal.aborted) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      o.ui.error(`Download failed: ${msg}`);
      errors.push(msg);
    }
  }
  throw new Error(`error downloading ${o.description}: ${errors.join("; ")}`);
}

async function local(url: string, o: DownloadOptions): Promise<DownloadResult> {
  const path = localPath(url, o.baseDir);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`${path}: no such file`);
  const want = await resolveChecksum(o.checksum, url, { baseDir: o.baseDir, signal: o.signal });
  if (want.kind === "hash") {
    const got = await digestFile(path, want.type, info.size, o);
    if (got !== want.hex) throw new Error(`checksum mismatch for ${path}: expected ${want.type} ${want.hex}, got ${got}`);
  }
  return { path, source: url, fetched: false };
}

async function remote(url: string, o: DownloadOptions): Promise<DownloadResult> {
  const target = cacheTarget(url, o.checksumText, o.extension, o.targetPath);
  let job = inFlight.get(target);
  if (!job) {
    job = fetchInto(url, target, o).finally(() => inFlight.delete(target));
    inFlight.set(target, job);
  }
  return job;
}

async function fetchInto(url: string, target: string, o: DownloadOptions): Promise<DownloadResult> {
  const want = await resolveChecksum(o.checksum, url, { baseDir: o.baseDir, signal: o.signal });
  if (want.kind === "hash" && existsSync(target)) {
    const size = (await stat(target)).size;
    const got = await digestFile(target, want.type, size, o);
    if (got === want.hex) {
      o.ui.message(`Using the cached ${o.description}: ${target}`);
      return { path: target, source: url, fetched: false };
    }
    o.ui.message(`The cached ${target} does not match its checksum: downloading it again`);
    await rm(target, { force: true });
  }
  await mkdir(dirname(target), { recursive: true });
  await fetchToFile(url, target, {
    what: o.description,
    // Packer caps no ISO; only the clocks (no byte for 30 s) and the build's cancellation apply.
    cap: Number.POSITIVE_INFINITY,
    timing: { ...DEFAULT_TIMING, deadlineMs: Number.POSITIVE_INFINITY },
    signal: o.signal,
    raw: true,
    hasher: () => hasher(want.kind === "hash" ? want.type : "sha256"),
    progress: (total) => o.ui.progress(`Downloading ${o.description}`, total),
    async commit(digest) {
      if (want.kind === "hash" && digest !== want.hex) throw new Error(`checksum mismatch for ${url}: expected ${want.type} ${want.hex}, got ${digest}`);
    },
  });
  return { path: target, source: url, fetched: true };
}

async function digestFile(path: string, type: HashType, size: number, o: DownloadOptions): Promise<string> {
  const h = hasher(type);
  const progress = size > 64 << 20 ? o.ui.progress(`Verifying the ${type} of ${path}`, size) : undefined;
  let done = 0;
  for await (const chunk of Bun.file(path).stream()) {
    if (o.signal.aborted) throw new Cancelled("cancelled");
    h.update(chunk);
    done += chunk.byteLength;
    progress?.update(done);
  }
  progress?.finish();
  return h.digest("hex");
}
