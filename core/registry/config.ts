// Which registry to talk to and which root of trust to start from, for one registry. Registries are
// configured with `imgb registry add` (core/registry/sources.ts); this module turns one of them, or
// the CI variables below, into a RegistryConfig:
//   IMGB_REGISTRY_URL   URL of a registry (http://, https://, file:// or oci://HOST/REPOSITORY)
//   IMGB_REGISTRY_ROOT  path to the root.json to trust for it (obtained out of band)
// imgb embeds no root of trust: every registry's root is pinned by the user (see docs/registry.md).
// Client state (highest versions seen, the newest verified root) lives in $XDG_STATE_HOME/imgb
// (default ~/.local/state/imgb); downloaded plugins in $XDG_CACHE_HOME/imgb (default ~/.cache/imgb).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { splitUrlCredentials } from "./credentials.ts";
import { DEFAULT_TIMING, type Timing } from "./download.ts";
import { RegistryError } from "./errors.ts";
import type { RootEnvelope } from "./schema.ts";
import { transportFor, type RegistryTransport } from "./transport.ts";
import { parseRoot, verifySelfSignedRoot } from "./verify.ts";

export interface RegistryConfig {
  /** The configured name ("imgb registry add NAME"), or "IMGB_REGISTRY_URL". */
  name: string;
  /** The registry's address, without credentials: shown in messages and recorded in lock files. */
  url: string;
  transport: RegistryTransport;
  trustedRoot: RootEnvelope;
  /** Where the trusted root came from, for messages. */
  rootSource: string;
  stateDir: string;
  cacheDir: string;
  now: () => Date;
  timing: Timing;
}

export interface RegistryOptions {
  url?: string;
  rootPath?: string;
  stateDir?: string;
  cacheDir?: string;
  now?: () => Date;
  /** Idle limit of a download (ms). */
  timeoutMs?: number;
  /** The rest of the download clocks (total deadline = baseMs + cap / minBytesPerSecond). */
  timing?: Partial<Timing>;
  env?: Record<string, string | undefined>;
}

export function defaultStateDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "imgb");
}

export function defaultCacheDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "imgb");
}

export function timingOf(opts: RegistryOptions): Timing {
  return { ...DEFAULT_TIMING, ...(opts.timing ?? {}), ...(opts.timeoutMs !== undefined ? { idleMs: opts.timeoutMs } : {}) };
}

export function parseRootBytes(bytes: Uint8Array, source: string): RootEnvelope {
  const env = parseRoot(bytes, `trusted root ${source}`, { registry: source });
  verifySelfSignedRoot(env, `trusted root ${source}`, { registry: source });
  return env;
}

export async function loadRootFile(path: string): Promise<RootEnvelope> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new RegistryError("usage", `cannot read trusted root ${path}: ${(e as Error).message}`);
  }
  return parseRootBytes(bytes, path);
}

/** A RegistryConfig from parts already known (a configured registry whose root is loaded). */
export function registryConfigOf(name: string, url: string, trustedRoot: RootEnvelope, rootSource: string, opts: RegistryOptions = {}): RegistryConfig {
  const env = opts.env ?? process.env;
  const timing = timingOf(opts);
  const transport = transportFor(url, { timing, env });
  return {
    name,
    url: transport.display,
    transport,
    trustedRoot,
    rootSource,
    stateDir: opts.stateDir ?? defaultStateDir(env),
    cacheDir: opts.cacheDir ?? defaultCacheDir(env),
    now: opts.now ?? (() => new Date()),
    timing,
  };
}

/** One registry named by options or by IMGB_REGISTRY_URL + IMGB_REGISTRY_ROOT (CI, mirrors, tests). */
export async function resolveRegistryConfig(opts: RegistryOptions = {}): Promise<RegistryConfig> {
  const env = opts.env ?? process.env;
  const url = opts.url ?? (env.IMGB_REGISTRY_URL || undefined);
  if (url === undefined) {
    throw new RegistryError("usage", 'no plugin registry configured: add one with "imgb registry add NAME URL --root FILE" (or set IMGB_REGISTRY_URL and IMGB_REGISTRY_ROOT)');
  }
  const shown = splitUrlCredentials(url).url;
  const rootPath = opts.rootPath ?? (env.IMGB_REGISTRY_ROOT || undefined);
  if (rootPath === undefined) {
    throw new RegistryError("usage", `no root of trust for ${shown}: set IMGB_REGISTRY_ROOT to the registry's root.json (obtained out of band), or add it with "imgb registry add NAME ${shown} --root FILE"`);
  }
  const trustedRoot = await loadRootFile(rootPath);
  return registryConfigOf("IMGB_REGISTRY_URL", url, trustedRoot, rootPath, opts);
}
