// Credentials for registries, looked up by host and never written into URLs, lock files, logs or
// errors. Sources, first match wins:
//   1. imgb's own store, $XDG_CONFIG_HOME/imgb/credentials.json (mode 0600), filled by
//      `imgb registry add` when the URL carried `user:password@` (the URL is stored without them);
//   2. REGISTRY_AUTH_FILE (the containers-auth.json format podman, skopeo and buildah use);
//   3. $DOCKER_CONFIG/config.json or ~/.docker/config.json (`auths.<host>.auth`, base64 user:password);
//   4. $XDG_RUNTIME_DIR/containers/auth.json (podman login's default).
// Credential helpers (`credsStore`, `credHelpers`) run programs and are not consulted.
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { jsonText, readIfExists, writeFileAtomic } from "./fsutil.ts";

export interface Credentials {
  username: string;
  password: string;
}

const AuthEntry = v.looseObject({ auth: v.optional(v.string()), username: v.optional(v.string()), password: v.optional(v.string()) });
const AuthFile = v.looseObject({ auths: v.optional(v.record(v.string(), AuthEntry)) });
const ImgbStore = v.strictObject({ hosts: v.record(v.string(), v.strictObject({ username: v.string(), password: v.string() })) });

type Env = Record<string, string | undefined>;

export function configDir(env: Env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "imgb");
}

function storePath(env: Env): string {
  return join(configDir(env), "credentials.json");
}

async function readJson(path: string): Promise<unknown> {
  const bytes = await readIfExists(path).catch(() => undefined);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

function fromAuthFile(json: unknown, host: string): Credentials | undefined {
  const r = v.safeParse(AuthFile, json);
  if (!r.success) return undefined;
  const auths = r.output.auths ?? {};
  const entry = auths[host] ?? auths[`https://${host}`] ?? auths[`http://${host}`] ?? auths[`https://${host}/v2/`];
  if (!entry) return undefined;
  if (entry.auth) {
    const text = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

export async function credentialsFor(host: string, env: Env = process.env): Promise<Credentials | undefined> {
  const own = v.safeParse(ImgbStore, await readJson(storePath(env)));
  if (own.success && own.output.hosts[host]) return own.output.hosts[host];
  const files = [
    env.REGISTRY_AUTH_FILE,
    join(env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker"), "config.json"),
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "containers", "auth.json") : undefined,
  ];
  for (const f of files) {
    if (!f) continue;
    const c = fromAuthFile(await readJson(f), host);
    if (c) return c;
  }
  return undefined;
}

export async function storeCredentials(host: string, creds: Credentials, env: Env = process.env): Promise<void> {
  const cur = v.safeParse(ImgbStore, await readJson(storePath(env)));
  const hosts = cur.success ? cur.output.hosts : {};
  hosts[host] = creds;
  await writeFileAtomic(storePath(env), jsonText({ hosts }), 0o600);
}

/** Splits `scheme://user:pass@host/...` into the URL without credentials and the credentials. */
export function splitUrlCredentials(url: string): { url: string; credentials?: Credentials; host?: string } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@([^/]*)(.*)$/i.exec(url);
  if (!m) {
    const h = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)/i.exec(url);
    return h?.[1] ? { url, host: h[1] } : { url };
  }
  const [, scheme, userinfo, host, rest] = m as unknown as [string, string, string, string, string];
  const colon = userinfo.indexOf(":");
  const username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = decodeURIComponent(colon < 0 ? "" : userinfo.slice(colon + 1));
  return { url: `${scheme}${host}${rest}`, credentials: { username, password }, host };
}

export function basicAuth(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}
