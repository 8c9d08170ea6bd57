// Which registry to talk to and which root of trust to start from. Default: the official registry's
// root embedded in the binary (official-root.json; its private key is held offline, never in this
// repository). Overrides, for mirrors, private registries and tests:
//   IMGB_REGISTRY_URL   base URL of the registry (http://, https:// or file://)
//   IMGB_REGISTRY_ROOT  path to a root.json to trust instead of the embedded one
// Client state (highest versions seen, the newest verified root) lives in $XDG_STATE_HOME/imgb
// (default ~/.local/state/imgb); downloaded plugins in $XDG_CACHE_HOME/imgb (default ~/.cache/imgb).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "./errors.ts";
import officialRoot from "./official-root.json" with { type: "json" };
import type { RootEnvelope } from "./schema.ts";
import { parseRoot, verifySelfSignedRoot } from "./verify.ts";

/** The official registry has no public URL yet: until it does, IMGB_REGISTRY_URL must be set. */
export const OFFICIAL_REGISTRY_URL: string | undefined = undefined;

export interface RegistryConfig {
  url: string;
  trustedRoot: RootEnvelope;
  /** Where the trusted root came from, for messages. */
  rootSource: string;
  stateDir: string;
  cacheDir: string;
  now: () => Date;
  /** A download fails when no data arrives for this long. */
  timeoutMs: number;
}

export interface RegistryOptions {
  url?: string;
  rootPath?: string;
  stateDir?: string;
  cacheDir?: string;
  now?: () => Date;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

export function defaultStateDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "imgb");
}

export function defaultCacheDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "imgb");
}

export async function loadRootFile(path: string): Promise<RootEnvelope> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new RegistryError("usage", `cannot read trusted root ${path}: ${(e as Error).message}`);
  }
  const env = parseRoot(bytes, `trusted root ${path}`, { registry: path });
  verifySelfSignedRoot(env, `trusted root ${path}`, { registry: path });
  return env;
}

export function embeddedRoot(): RootEnvelope {
  const bytes = new TextEncoder().encode(JSON.stringify(officialRoot));
  const env = parseRoot(bytes, "embedded official root", { registry: "official" });
  verifySelfSignedRoot(env, "embedded official root", { registry: "official" });
  return env;
}

export async function resolveRegistryConfig(opts: RegistryOptions = {}): Promise<RegistryConfig> {
  const env = opts.env ?? process.env;
  const url = opts.url ?? (env.IMGB_REGISTRY_URL || undefined) ?? OFFICIAL_REGISTRY_URL;
  if (url === undefined) {
    throw new RegistryError("usage", "no plugin registry configured: set IMGB_REGISTRY_URL (and IMGB_REGISTRY_ROOT for a registry other than the official one)");
  }
  if (!/^(https?|file):\/\//.test(url)) {
    throw new RegistryError("usage", `registry URL ${JSON.stringify(url)} must start with http://, https:// or file://`);
  }
  const rootPath = opts.rootPath ?? (env.IMGB_REGISTRY_ROOT || undefined);
  const trustedRoot = rootPath !== undefined ? await loadRootFile(rootPath) : embeddedRoot();
  return {
    url: url.replace(/\/+$/, ""),
    trustedRoot,
    rootSource: rootPath ?? "embedded official root",
    stateDir: opts.stateDir ?? defaultStateDir(env),
    cacheDir: opts.cacheDir ?? defaultCacheDir(env),
    now: opts.now ?? (() => new Date()),
    timeoutMs: opts.timeoutMs ?? 30_000,
  };
}
