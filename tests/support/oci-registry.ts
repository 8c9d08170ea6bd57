// A throwaway OCI registry for tests: `startOciRegistry()` runs Debian's `docker-registry` (the CNCF
// distribution server) in the foreground on a free loopback port, with its own temp storage folder and
// config, optionally behind htpasswd basic auth; `stop()` ends it (waiting for it) and removes the folder.
// Nothing here touches /etc/docker/registry or /var/lib/docker-registry.
//
// API (keep it this small; other test areas reuse it):
//   startOciRegistry(opts?: { auth?: { username, password } }): Promise<{ host, url, stop() }>
//     host: "127.0.0.1:PORT", url: "http://127.0.0.1:PORT"
//   startOciRegistryWithTokenAuth({ username, password }): the same behind bearer-token auth
//     (+ tokenRequests(): how many token requests its token service answered)
//
// Manual install line (what ensureDockerRegistry runs as root when the server is missing):
//   apt-get install -y --no-install-recommends docker-registry apache2-utils
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./sshd.ts";

const REGISTRY = "/usr/bin/docker-registry";
const HTPASSWD = "/usr/bin/htpasswd";

export interface OciRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** Stop the server and remove its storage. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<() => void>();
let exitHookInstalled = false;

function ensureDockerRegistry(): void {
  if (existsSync(REGISTRY) && existsSync(HTPASSWD)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${REGISTRY} or ${HTPASSWD} is missing; install docker-registry and apache2-utils (needs root)`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const argv of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker-registry", "apache2-utils"],
  ]) {
    const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  }
}

export async function startOciRegistry(opts?: {
  auth?: { username: string; password: string };
}): Promise<{ host: string; url: string; stop(): Promise<void> }> {
  return launch(opts, undefined);
}

/**
 * The same server behind token auth (`WWW-Authenticate: Bearer realm=...`), as Docker Hub, GHCR and
 * Harbor do it: a token service on loopback (Bun.serve) checks basic credentials and issues ES256 JWTs
 * whose x5c header carries a throwaway self-signed certificate the registry trusts (rootcertbundle).
 */
export async function startOciRegistryWithTokenAuth(auth: { username: string; password: string }): Promise<OciRegistry & { tokenRequests: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), "imgb-oci-token-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=imgb-test-token"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const pem = (text: string) => Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const der = pem(readFileSync(cert, "utf8"));
  const signingKey = await crypto.subtle.importKey("pkcs8", pem(readFileSync(key, "utf8")), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");
  let requests = 0;
  const tokens = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      requests++;
      const u = new URL(req.url);
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      if (req.headers.get("authorization") !== expected) return new Response("unauthorized\n", { status: 401 });
      const scope = u.searchParams.get("scope") ?? "";
      const [, name = "", actions = ""] = /^repository:([^:]+):(.+)$/.exec(scope) ?? [];
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: "ES256", typ: "JWT", x5c: [der.toString("base64")] };
      const claims = { iss: "imgb-test-issuer", sub: auth.username, aud: "imgb-test", exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access: name ? [{ type: "repository", name, actions: actions.split(",") }] : [] };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signingKey, new TextEncoder().encode(input)));
      return Response.json({ token: `${input}.${b64url(sig)}` });
    },
  });
  const authLines = ["auth:", "  token:", `    realm: http://127.0.0.1:${tokens.port}/token`, "    service: imgb-test", "    issuer: imgb-test-issuer", `    rootcertbundle: ${cert}`];
  try {
    const reg = await launch(undefined, authLines);
    return {
      ...reg,
      tokenRequests: () => requests,
      stop: async () => {
        await reg.stop();
        await tokens.stop(true);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await tokens.stop(true);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function launch(opts: { auth?: { username: string; password: string } } | undefined, extraAuth: string[] | undefined): Promise<OciRegistry> {
  ensureDockerRegistry();
  const dir = mkdtempSync(join(tmpdir(), "imgb-oci-registry-"));
  const storage = join(dir, "storage");
  mkdirSync(storage);
  const logPath = join(dir, "registry.log");
  const readLog = (): string => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };

  let authLines: string[] = extraAuth ?? [];
  if (opts?.auth) {
    // bcrypt, the only scheme distribution's htpasswd backend accepts.
    const r = spawnSync(HTPASSWD, ["-Bbn", opts.auth.username, opts.auth.password], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    writeFileSync(join(dir, "htpasswd"), r.stdout, { mode: 0o600 });
    authLines = ["auth:", "  htpasswd:", "    realm: imgb-test", `    path: ${join(dir, "htpasswd")}`];
  }

  // A port that was free a moment ago can be taken by a parallel test: try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const configPath = join(dir, "config.yml");
    writeFileSync(
      configPath,
      [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${storage}`,
        "  delete:",
        "    enabled: true",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        `  addr: 127.0.0.1:${port}`,
        ...authLines,
        "",
      ].join("\n"),
    );
    // The server logs to stderr: into a file, not a pipe, so a busy test process never blocks it.
    const logFd = openSync(logPath, "a");
    const child = spawn(REGISTRY, ["serve", configPath], { stdio: ["ignore", logFd, logFd], env: { PATH: process.env.PATH ?? "" } });
    closeSync(logFd);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let exitCode: number | null | undefined;
    void exited.then((c) => (exitCode = c));

    const host = `127.0.0.1:${port}`;
    const url = `http://${host}`;
    const killNow = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    running.add(killNow);
    installExitHook();

    const deadline = Date.now() + 10_000;
    let ready = false;
    while (Date.now() < deadline && exitCode === undefined) {
      try {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await Bun.sleep(20);
    }
    if (!ready) {
      killNow();
      await exited;
      running.delete(killNow);
      const log = readLog();
      if (attempt < 3 && /address already in use/i.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start on ${host}:\n${log}`);
    }

    let stopped = false;
    return {
      host,
      url,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(killNow, 5000);
        await exited;
        clearTimeout(timer);
        running.delete(killNow);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Last resort when a test process exits without stopping its registries. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const kill of running) kill();
  });
}
