// Credentials for registries, looked up by host and never written into URLs, lock files, logs or
// errors. Sources, first match wins:
//   1. imgb's own store, $XDG_CONFIG_HOME/imgb/credentials.json (mode 0600), filled by
//      `imgb registry add` when the URL carried `user:password@` (the URL is stored without them);
//   2. REGISTRY_AUTH_FILE (the containers-auth.json format podman, skopeo and buildah use);
//   3. $DOCKER_CONFIG/config.json or ~/.docker/config.json (`auths.<host>.auth`, base64 user:password);
//   4. $XDG_RUNTIME_DIR/containers/auth.json (podman login's default).
// In each file, as docker reads it: a credential helper named for the host (`credHelpers`) or for
// every host (`credsStore`) answers instead of `auths`: `docker-credential-NAME get` from PATH, the
// host on stdin, {"Username", "Secret"} on stdout ("credentials not found" = none). Its output is
// never shown; a helper that fails or is missing is an error naming it, the host and the file.
// Identity tokens (Username "<token>", an OAuth refresh token) are not used: no credentials.
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { ProcessError, run } from "../process/child.ts";
import { RegistryError } from "./errors.ts";
import { jsonText, readIfExists, writeFileAtomic } from "./fsutil.ts";

export interface Credentials {
  username: string;
  password: string;
}

const AuthEntry = v.looseObject({ auth: v.optional(v.string()), username: v.optional(v.string()), password: v.optional(v.string()) });
const AuthFile = v.looseObject({
  auths: v.optional(v.record(v.string(), AuthEntry)),
  credHelpers: v.optional(v.record(v.string(), v.string())),
  credsStore: v.optional(v.string()),
});
const HelperReply = v.looseObject({ Username: v.string(), Secret: v.string() });
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HELPER_TIMEOUT_MS = 30_000;
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

/** `docker-credential-NAME get` for `host`; undefined when it has none. */
async function fromHelper(name: string, host: string, file: string, env: Env): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const fail = (why: string) => new RegistryError("usage", `credential helper ${program} (named in ${file}) for ${host}: ${why}`);
  if (!HELPER_NAME.test(name)) throw fail("not a program name");
  const path = Bun.which(program, { PATH: env.PATH ?? process.env.PATH ?? "" });
  if (!path) throw fail("not found on PATH");
  let stdout: Uint8Array;
  try {
    const r = await run([path, "get"], { stdin: new TextEncoder().encode(host), captureStdout: true, env: { ...process.env, ...env }, signal: AbortSignal.timeout(HELPER_TIMEOUT_MS) });
    stdout = r.stdout;
  } catch (e) {
    if (e instanceof ProcessError) {
      // docker-credential-helpers' "not found" answer: exit 1 with this text on stdout.
      if (/credentials not found/i.test(new TextDecoder().decode(e.result.stdout))) return undefined;
      const why = e.result.stderrTail.trim().split("\n").at(-1) ?? "";
      throw fail(`exited with status ${e.result.exitCode ?? e.result.signalCode}${why ? `: ${why.slice(0, 200)}` : ""}`);
    }
    throw fail(e instanceof Error && e.name === "TimeoutError" ? `no answer within ${HELPER_TIMEOUT_MS / 1000} s` : (e as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(stdout));
  } catch {
    throw fail("its answer is not JSON");
  }
  const reply = v.safeParse(HelperReply, json);
  if (!reply.success) throw fail('its answer has no "Username" and "Secret"');
  if (reply.output.Username === "<token>" || reply.output.Secret === "") return undefined;
  return { username: reply.output.Username, password: reply.output.Secret };
}

async function fromAuthFile(json: unknown, host: string, file: string, env: Env): Promise<Credentials | undefined> {
  const r = v.safeParse(AuthFile, json);
  if (!r.success) return undefined;
  const helper = r.output.credHelpers?.[host] ?? r.output.credsStore;
  if (helper !== undefined && helper !== "") return fromHelper(helper, host, file, env);
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
    const c = await fromAuthFile(await readJson(f), host, f, env);
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
