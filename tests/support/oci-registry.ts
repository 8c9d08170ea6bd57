// A throwaway OCI registry for tests: `startOciRegistry()` runs Debian's `docker-registry` (the CNCF
// distribution server) in the foreground on a free loopback port, with its own temp storage folder and
// config, optionally behind htpasswd basic auth; `stop()` ends it (waiting for it) and removes the folder.
// Nothing here touches /etc/docker/registry or /var/lib/docker-registry.
//
// API (keep it this small; other test areas reuse it):
//   startOciRegistry(opts?: { auth?: { username, password } }): Promise<{ host, url, stop() }>
//     host: "127.0.0.1:PORT", url: "http://127.0.0.1:PORT"
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

  let authLines: string[] = [];
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
