// A throwaway OpenSSH server for tests: `startSshd()` runs Debian's /usr/sbin/sshd in the foreground
// (`-D -e`) on a free port with its own host key, config and authorized key, and `stop()` ends it and
// every process it started (waiting for each). Nothing here touches /etc/ssh or any user's files.
//
// API (keep it this small; other test areas reuse it):
//   ensureOpenSsh(): Promise<void>            installs openssh-server with apt-get when sshd is missing (root only)
//   startSshd(opts?: SshdOptions): Promise<Sshd>   port, listenAddress, netns, extra config lines,
//                                             sudo (a NOPASSWD sudoers rule for the test user while it runs)
//     Sshd: host, port, user, password, clientKeyPath, hostPublicKey, hostFingerprint, remoteDir,
//           home, log(), processes(), kill() (drop every connection), restart(), stop()
//   freePort(host?): Promise<number>          a TCP port that was free a moment ago
//   TEST_USER                                 "imgbtest", the account every server logs in
//   stopAllSshd(): Promise<void>              stops every server this process started (afterAll safety net)
//
// Login: user `imgbtest` (a dedicated account created on first use with `useradd`; never root). Its
// password is random, generated once and kept root-only in /var/lib/imgb-test/imgbtest.password, so
// concurrent test processes agree on it and nobody else knows it. Public-key login uses an ed25519
// key generated per server (Sshd.clientKeyPath) listed in the server's own authorized_keys file; the
// user's ~/.ssh/authorized_keys is also honoured (tests of ssh_clear_authorized_keys write there).
// Only this server's config allows password login; the server listens on 127.0.0.1 unless told otherwise.
//
// Manual install line (what ensureOpenSsh runs):
//   apt-get install -y --no-install-recommends openssh-server
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TEST_USER = "imgbtest";
const SSHD = "/usr/sbin/sshd";
const PASSWORD_FILE = "/var/lib/imgb-test/imgbtest.password";

export interface SshdOptions {
  /** Default: a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  listenAddress?: string;
  /** Run sshd inside this network namespace (`ip netns exec NAME sshd ...`). */
  netns?: string;
  /** Extra sshd_config lines, e.g. ["AllowTcpForwarding no"]. */
  config?: string[];
  /**
   * Let the test user run any command as root through sudo without a password while this server
   * runs (a file in /etc/sudoers.d named after the server, removed on stop and by the exit hook):
   * for `become` over SSH. Needs sudo installed.
   */
  sudo?: boolean;
}

export interface Sshd {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Private key (OpenSSH format, no passphrase) the server accepts for `user`. */
  clientKeyPath: string;
  clientPublicKey: string;
  /** "ssh-ed25519 AAAA..." — the server's host key as ssh_host_key accepts it. */
  hostPublicKey: string;
  /** "SHA256:..." fingerprint of the host key. */
  hostFingerprint: string;
  /** A fresh directory owned by `user`, removed on stop: put remote files here. */
  remoteDir: string;
  /** The user's home directory. */
  home: string;
  /** Everything sshd logged so far (LogLevel DEBUG1, kept in a file in the server's temp dir). */
  log(): string;
  /** PIDs of sshd and every process below it (sessions, commands), listener first. */
  processes(): number[];
  /** SIGKILL sshd and all its session processes: open connections drop at once. */
  kill(): Promise<void>;
  /** Start the same server again (same port, keys and config) after kill(). */
  restart(): Promise<void>;
  /** Stop everything and remove the temp files. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<Sshd>();
let exitHookInstalled = false;

export async function ensureOpenSsh(): Promise<void> {
  if (existsSync(SSHD)) return;
  if (process.getuid?.() !== 0) throw new Error(`${SSHD} is missing; install openssh-server (needs root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run(["apt-get", "update", "-qq"], env);
  run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "openssh-server"], env);
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  await ensureOpenSsh();
  const account = ensureTestUser();
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(join(tmpdir(), "imgb-sshd-"));
  chmodSync(dir, 0o755); // sshd reads authorized_keys as the test user
  const remoteDir = join(dir, "remote");
  mkdirSync(remoteDir);
  chownSync(remoteDir, account.uid, account.gid);

  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "client_ed25519");
  run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imgb-test-host", "-f", hostKey]);
  run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imgb-test-client", "-f", clientKey]);
  const clientPublicKey = readFileSync(`${clientKey}.pub`, "utf8").trim();
  writeFileSync(join(dir, "authorized_keys"), `${clientPublicKey}\n`, { mode: 0o644 });
  const hostPublicKey = readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
  const fp = run(["ssh-keygen", "-l", "-E", "sha256", "-f", `${hostKey}.pub`]).split(/\s+/)[1] ?? "";

  const host = opts.listenAddress ?? "127.0.0.1";
  const port = opts.port ?? (await freePort(opts.netns ? "127.0.0.1" : host));
  const configPath = join(dir, "sshd_config");
  writeFileSync(
    configPath,
    [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${hostKey}`,
      "PidFile none",
      `AuthorizedKeysFile ${join(dir, "authorized_keys")} .ssh/authorized_keys`,
      // The temp dir lives under /tmp (mode 1777), which StrictModes would reject.
      "StrictModes no",
      "UsePAM no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication yes",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin no",
      `AllowUsers ${TEST_USER}`,
      "AllowTcpForwarding yes",
      "AllowAgentForwarding yes",
      "MaxSessions 100",
      "MaxStartups 100:30:200",
      "LogLevel DEBUG1",
      "Subsystem sftp internal-sftp",
      ...(opts.config ?? []),
      "",
    ].join("\n"),
  );

  const sudoers = opts.sudo ? grantSudo(port) : undefined;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  // sshd logs to a file, not a pipe: a pipe fills while this process is busy (a spawnSync, a long
  // synchronous loop) and then sshd, blocked on writing its log, stops serving connections.
  const logPath = join(dir, "sshd.log");
  const readLog = (): string => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };
  const launch = async (): Promise<void> => {
    const logStart = readLog().length;
    const argv = [SSHD, "-D", "-e", "-E", logPath, "-f", configPath];
    const cmd = opts.netns ? ["ip", "netns", "exec", opts.netns, ...argv] : argv;
    const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: "ignore" });
    child = proc;
    let exitCode: number | null | undefined;
    exited = new Promise<void>((resolve) =>
      proc.once("exit", (code) => {
        exitCode = code;
        resolve();
      }),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (readLog().slice(logStart).includes("Server listening on")) return;
      if (exitCode !== undefined) throw new Error(`sshd exited with ${exitCode} before listening:\n${readLog()}`);
      if (Date.now() > deadline) throw new Error(`sshd did not start within 10s:\n${readLog()}`);
      await Bun.sleep(10);
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    // Session processes first, deepest first, while sshd is alive to reap them (PID 1 here does not
    // reap orphans); then the listener itself, and wait for it.
    // Freeze them all first, so no session can still report an exit status while its command is
    // being killed: like a machine losing power, the client sees only the connection drop.
    const sessions = descendants(proc.pid);
    for (const pid of sessions) signal(pid, "SIGSTOP");
    for (const pid of sessions.reverse()) signal(pid, "SIGKILL");
    await waitGone(sessions);
    signal(proc.pid, "SIGKILL");
    await exited;
  };

  const server: Sshd = {
    host,
    port,
    user: TEST_USER,
    password: account.password,
    clientKeyPath: clientKey,
    clientPublicKey,
    hostPublicKey,
    hostFingerprint: fp,
    remoteDir,
    home: account.home,
    log: readLog,
    processes: () => (child?.pid !== undefined && child.exitCode === null ? [child.pid, ...descendants(child.pid)] : []),
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      running.delete(server);
      rmSync(dir, { recursive: true, force: true });
      if (sudoers) rmSync(sudoers, { force: true });
    },
  };

  installExitHook();
  running.add(server);
  dirOf.set(server, dir);
  if (sudoers) sudoersOf.set(server, sudoers);
  try {
    await launch();
  } catch (err) {
    await server.stop();
    throw err;
  }
  // Remember the pid list for the synchronous exit hook.
  pidOf.set(server, () => child?.pid);
  return server;
}

export async function stopAllSshd(): Promise<void> {
  for (const s of [...running]) await s.stop();
}

const pidOf = new WeakMap<Sshd, () => number | undefined>();
const dirOf = new WeakMap<Sshd, string>();
const sudoersOf = new WeakMap<Sshd, string>();

/** /etc/sudoers.d/imgb-test-PORT: the test user may run anything as root, checked with visudo before use. */
function grantSudo(port: number): string {
  if (!existsSync("/usr/bin/sudo")) throw new Error("sudo is missing: apt-get install sudo (tests/support/apt-packages.txt lists it)");
  const path = `/etc/sudoers.d/imgb-test-${port}`;
  writeFileSync(path, `${TEST_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  const check = spawnSync("visudo", ["-c", "-q", "-f", path], { encoding: "utf8" });
  if (check.status !== 0) {
    rmSync(path, { force: true });
    throw new Error(`visudo rejected ${path}: ${check.stderr}${check.stdout}`);
  }
  return path;
}

/**
 * Last resort when a test process exits (or is interrupted) without stopping its servers: kill
 * them and remove their files synchronously.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = (): void => {
    for (const s of running) {
      const pid = pidOf.get(s)?.();
      if (pid !== undefined) {
        for (const p of descendants(pid)) signal(p, "SIGKILL");
        signal(pid, "SIGKILL");
      }
      const dir = dirOf.get(s);
      if (dir) rmSync(dir, { recursive: true, force: true });
      const sudoers = sudoersOf.get(s);
      if (sudoers) rmSync(sudoers, { force: true });
    }
    running.clear();
  };
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
}

interface Account {
  uid: number;
  gid: number;
  home: string;
  password: string;
}

let cachedAccount: Account | undefined;

function ensureTestUser(): Account {
  if (cachedAccount) return cachedAccount;
  if (process.getuid?.() !== 0) throw new Error("the sshd harness needs root (it runs sshd and owns a test account)");
  if (spawnSync("id", ["-u", TEST_USER]).status !== 0) {
    run(["useradd", "--create-home", "--shell", "/bin/sh", "--comment", "imgb test account", TEST_USER]);
  }
  mkdirSync("/var/lib/imgb-test", { recursive: true, mode: 0o700 });
  let password = existsSync(PASSWORD_FILE) ? readFileSync(PASSWORD_FILE, "utf8").trim() : "";
  if (!password) {
    password = randomBytes(18).toString("base64url");
    writeFileSync(PASSWORD_FILE, `${password}\n`, { mode: 0o600 });
    const r = spawnSync("chpasswd", { input: `${TEST_USER}:${password}\n` });
    if (r.status !== 0) throw new Error(`chpasswd failed: ${r.stderr}`);
  }
  const uid = Number(run(["id", "-u", TEST_USER]).trim());
  const gid = Number(run(["id", "-g", TEST_USER]).trim());
  const home = run(["sh", "-c", `getent passwd ${TEST_USER} | cut -d: -f6`]).trim();
  cachedAccount = { uid, gid, home, password };
  return cachedAccount;
}

function run(argv: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", env: env ?? process.env });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** All processes below `root`, parents before children (read from /proc). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // Field 4 (ppid) follows "pid (comm) state"; comm may contain spaces, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(pids: number[]): Promise<void> {
  // Wait until each is dead; then give sshd a moment to reap its zombies (PID 1 here may never
  // reap what sshd leaves behind), without waiting on zombies that are no longer ours to reap.
  const state = (p: number): "gone" | "zombie" | "alive" => {
    try {
      return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, "utf8")) ? "zombie" : "alive";
    } catch {
      return "gone";
    }
  };
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && pids.some((p) => state(p) === "alive")) await Bun.sleep(10);
  const grace = Date.now() + 200;
  while (Date.now() < grace && pids.some((p) => state(p) !== "gone")) await Bun.sleep(10);
}

/** A null builder reaching this sshd over SSH, with its key and pinned host key: the template tests' usual machine. */
export function nullSshBuilder(sshd: Sshd): Record<string, string | number> {
  return {
    type: "null",
    communicator: "ssh",
    ssh_host: "127.0.0.1",
    ssh_port: sshd.port,
    ssh_username: sshd.user,
    ssh_private_key_file: sshd.clientKeyPath,
    ssh_host_key: sshd.hostPublicKey,
  };
}

/** The same machine as an HCL2 `source "null" NAME` block, with `extra` lines before its closing brace. */
export function nullSshSource(sshd: Sshd, name: string, extra = ""): string {
  const { type: _type, ...keys } = nullSshBuilder(sshd);
  const lines = Object.entries(keys).map(([k, v]) => `  ${k} = ${JSON.stringify(v)}`);
  return `source "null" "${name}" {\n${lines.join("\n")}\n${extra}\n}\n`;
}
