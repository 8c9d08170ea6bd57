// One SSH connection attempt (TCP or through a bastion, handshake, host key, authentication) and
// the loop that keeps trying until ssh_timeout, as Packer's "Waiting for SSH to become available...".
import { connect as tcpConnect, type Socket } from "node:net";
import type { Algorithms, Client, ConnectConfig } from "ssh2";
import { loadSsh2 } from "./ssh2.ts";
import type { Duplex } from "node:stream";
import type { Ui } from "../../ui/types.ts";
import { CommunicatorError } from "../types.ts";
import { planAuth, type Credentials } from "./auth.ts";
import type { SshConfig } from "./config.ts";
import { formatDuration } from "./duration.ts";
import { HostKeyPolicy } from "./host-key-policy.ts";
import { SocksError, socksConnect, type SocksProxy } from "./socks.ts";

/** A live connection; `closed` resolves when it drops, with the reason. */
export interface SshConnection {
  client: Client;
  /** The bastion connection carrying this one, if any. */
  bastion?: Client;
  readonly isClosed: boolean;
  readonly closeReason: string;
  closed: Promise<string>;
  /** Close both this connection and its bastion. */
  end(): void;
}

type FailureKind = "network" | "timeout" | "auth" | "hostkey" | "handshake" | "config";

/** Why an attempt failed; `kind` decides whether to try again. */
export class ConnectFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** The connection the message is about ("ssh H:P" or "ssh bastion H:P"). */
    readonly target: string,
  ) {
    super(message);
  }
}

export interface Endpoint extends Credentials {
  host: string;
  port: number;
}

export interface AttemptOptions {
  endpoint: Endpoint;
  target: string;
  policy: HostKeyPolicy;
  /** Reach the endpoint through this connection (a bastion) instead of TCP. */
  via?: Client;
  /** Or open the TCP stream through this SOCKS5 proxy. */
  proxy?: SocksProxy;
  keepAliveIntervalMs: number;
  readWriteTimeoutMs: number;
  algorithms?: Algorithms;
  agentForward: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed (temporary)",
  EPIPE: "connection closed",
};

export function describeSocketError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code && SOCKET_ERRORS[e.code]) return SOCKET_ERRORS[e.code]!;
  return e?.message ?? String(err);
}

/** One attempt: resolves with a ready, authenticated connection or rejects with a ConnectFailure. */
export async function attemptConnection(o: AttemptOptions): Promise<{ client: Client; sock: Duplex }> {
  const { endpoint: ep, target } = o;
  const { Client } = await loadSsh2(); // before planAuth, which parses keys with it
  const auth = planAuth(ep, o.target.startsWith("ssh bastion") ? "ssh_bastion_private_key_file" : "ssh_private_key_file");
  if (typeof auth === "string") throw new ConnectFailure("config", auth, target);
  const sock = o.via
    ? await forwardThrough(o.via, ep, target)
    : o.proxy
      ? await dialSocks(o.proxy, ep, target, o.timeoutMs, o.signal)
      : await dialTcp(ep, target, o.timeoutMs, o.signal);

  return await new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyRefusal: string | undefined;
    let settled = false;
    const fail = (f: ConnectFailure): void => {
      if (settled) return;
      settled = true;
      o.signal.removeEventListener("abort", onAbort);
      client.end();
      sock.destroy();
      reject(f);
    };
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      client.end();
      sock.destroy();
      reject(o.signal.reason);
    };
    o.signal.addEventListener("abort", onAbort, { once: true });

    client.on("error", (err: Error & { level?: string }) => {
      if (hostKeyRefusal) return fail(new ConnectFailure("hostkey", hostKeyRefusal, target));
      switch (err.level) {
        case "client-authentication":
          return fail(
            new ConnectFailure(
              "auth",
              `authentication failed for user ${JSON.stringify(ep.username)} (methods tried: ${auth.tried.join(", ") || "none"})`,
              target,
            ),
          );
        case "client-timeout":
          return fail(new ConnectFailure("timeout", "timed out waiting for the SSH handshake", target));
        case "client-socket":
          return fail(new ConnectFailure("network", describeSocketError(err), target));
        default:
          return fail(new ConnectFailure("handshake", `handshake failed: ${err.message}`, target));
      }
    });
    client.on("close", () => {
      if (hostKeyRefusal) return fail(new ConnectFailure("hostkey", hostKeyRefusal, target));
      fail(new ConnectFailure("handshake", "the server closed the connection during the handshake", target));
    });
    client.on("ready", () => {
      if (settled) return;
      settled = true;
      o.signal.removeEventListener("abort", onAbort);
      resolve({ client, sock });
    });

    const preferred = o.policy.preferredAlgorithms();
    const algorithms: Algorithms = { ...o.algorithms };
    if (preferred.length && !algorithms.serverHostKey) {
      algorithms.serverHostKey = { prepend: preferred, append: [], remove: [] } as unknown as Algorithms["serverHostKey"];
    }
    const cfg: ConnectConfig = {
      sock,
      username: ep.username,
      authHandler: auth.handler,
      hostVerifier: (key: Buffer): boolean => {
        const d = o.policy.decide(key);
        if (!d.ok) hostKeyRefusal = d.reason;
        return d.ok;
      },
      readyTimeout: Math.max(1000, Math.min(o.timeoutMs, 30_000)),
      keepaliveInterval: o.keepAliveIntervalMs > 0 ? o.keepAliveIntervalMs : 0,
      keepaliveCountMax: 3,
      algorithms,
    };
    if (o.agentForward && process.env.SSH_AUTH_SOCK) {
      cfg.agent = process.env.SSH_AUTH_SOCK;
      cfg.agentForward = true;
    }
    try {
      client.connect(cfg);
    } catch (err) {
      const msg = (err as Error).message;
      const hint = /algorithm/i.test(msg) ? " (check ssh_ciphers and ssh_key_exchange_algorithms)" : "";
      fail(new ConnectFailure("config", `${msg}${hint}`, target));
    }
  });
}

async function dialTcp(ep: Endpoint, target: string, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: ep.host, port: ep.port });
    const timer = setTimeout(
      () => {
        sock.destroy();
        reject(new ConnectFailure("timeout", "TCP connection timed out", target));
      },
      Math.max(1000, Math.min(timeoutMs, 30_000)),
    );
    const onAbort = (): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once("error", (err) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(new ConnectFailure("network", describeSocketError(err), target));
    });
  });
}

async function dialSocks(proxy: SocksProxy, ep: Endpoint, target: string, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  try {
    const sock = await socksConnect(proxy, ep.host, ep.port, Math.max(1000, Math.min(timeoutMs, 30_000)), signal);
    sock.setNoDelay(true);
    return sock;
  } catch (e) {
    if (e instanceof SocksError) throw new ConnectFailure("network", `SOCKS proxy ${proxy.host}:${proxy.port}: ${e.message}`, target);
    throw e;
  }
}

async function forwardThrough(bastion: Client, ep: Endpoint, target: string): Promise<Duplex> {
  return await new Promise((resolve, reject) => {
    bastion.forwardOut("127.0.0.1", 0, ep.host, ep.port, (err, stream) => {
      if (err) {
        // OpenSSH reports the target's TCP error as the channel-open failure reason.
        const reason = err.message.replace(/^\(SSH\) Channel open failure: ?/, "").toLowerCase() || "refused";
        reject(new ConnectFailure("network", `the bastion could not connect: ${reason}`, target));
      } else resolve(stream);
    });
  });
}

export interface EstablishOptions {
  config: SshConfig;
  ui: Ui;
  signal: AbortSignal;
  targetPolicy: HostKeyPolicy;
  bastionPolicy?: HostKeyPolicy;
  /** "Waiting for SSH to become available..." is said on the first connection, not on reconnects. */
  firstTime: boolean;
}

export function targetName(config: SshConfig): string {
  return `ssh ${config.host}:${config.port}`;
}

/**
 * Keeps trying until the connection is up, ssh_timeout passes, ssh_handshake_attempts handshakes
 * have failed, or a failure that retrying cannot fix happens (host key, configuration).
 */
export async function establish(o: EstablishOptions): Promise<SshConnection> {
  const { config, ui, signal } = o;
  const target = targetName(config);
  const deadline = Date.now() + config.timeoutMs;
  let handshakeFailures = 0;
  let delay = 250;
  let lastReason = "";
  if (o.firstTime) ui.say("Waiting for SSH to become available...");
  for (;;) {
    signal.throwIfAborted();
    try {
      const conn = await connectOnce(o, Math.max(1000, Math.min(deadline - Date.now(), config.attemptTimeoutMs ?? Infinity)));
      if (o.firstTime) ui.say("Connected to SSH!");
      else ui.message(`Reconnected to ${config.host}:${config.port}`);
      return conn;
    } catch (err) {
      if (!(err instanceof ConnectFailure)) throw err;
      if (err.kind === "hostkey" || err.kind === "config") throw new CommunicatorError(err.message, err.target);
      if (err.kind === "auth" || err.kind === "handshake") handshakeFailures++;
      if (handshakeFailures >= config.handshakeAttempts) {
        const what = err.kind === "auth" ? err.message : `${err.message} (after ${handshakeFailures} handshake attempts)`;
        throw new CommunicatorError(what, err.target);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CommunicatorError(`timeout after ${formatDuration(config.timeoutMs)} waiting for SSH: ${err.message}`, err.target);
      }
      const reason = `${err.target}: ${err.message}`;
      if (reason !== lastReason) {
        ui.message(`${reason}; retrying for up to ${formatDuration(left)}`);
        lastReason = reason;
      }
      await sleep(Math.min(delay, left), signal);
      delay = Math.min(delay * 2, 1000);
    }
  }
}

async function connectOnce(o: EstablishOptions, timeoutMs: number): Promise<SshConnection> {
  const c = o.config;
  const common = {
    keepAliveIntervalMs: c.keepAliveIntervalMs,
    readWriteTimeoutMs: c.readWriteTimeoutMs,
    agentForward: !c.disableAgentForwarding,
    timeoutMs,
    signal: o.signal,
  };
  const algorithms: Algorithms = {};
  if (c.ciphers) algorithms.cipher = c.ciphers as Algorithms["cipher"];
  if (c.keyExchangeAlgorithms) algorithms.kex = c.keyExchangeAlgorithms as Algorithms["kex"];

  let bastion: Client | undefined;
  if (c.bastion && o.bastionPolicy) {
    const b = c.bastion;
    const ep: Endpoint = { host: b.host, port: b.port, username: b.username, agentAuth: b.agentAuth };
    if (b.password) ep.password = b.password;
    if (b.privateKeyFile) ep.privateKeyFile = b.privateKeyFile;
    if (b.certificateFile) ep.certificateFile = b.certificateFile;
    const r = await attemptConnection({
      ...common,
      agentForward: false,
      endpoint: ep,
      target: `ssh bastion ${b.host}:${b.port}`,
      policy: o.bastionPolicy,
    });
    bastion = r.client;
    r.client.on("error", () => {});
  }
  const ep: Endpoint = { host: c.host, port: c.port, username: c.username, agentAuth: c.agentAuth };
  if (c.password) ep.password = c.password;
  if (c.privateKeyFile) ep.privateKeyFile = c.privateKeyFile;
  if (c.privateKeyPassphrase !== undefined) ep.privateKeyPassphrase = c.privateKeyPassphrase;
  if (c.certificateFile) ep.certificateFile = c.certificateFile;
  if (c.privateKey) ep.privateKey = c.privateKey;
  let r: { client: Client; sock: Duplex };
  try {
    r = await attemptConnection({
      ...common,
      endpoint: ep,
      target: targetName(c) + (c.bastion ? ` (via bastion ${c.bastion.host}:${c.bastion.port})` : c.proxy ? ` (via SOCKS proxy ${c.proxy.host}:${c.proxy.port})` : ""),
      ...(c.proxy ? { proxy: c.proxy } : {}),
      policy: o.targetPolicy,
      algorithms,
      ...(bastion ? { via: bastion } : {}),
    });
  } catch (err) {
    bastion?.end();
    throw err;
  }
  return wrap(r.client, r.sock, bastion, c.readWriteTimeoutMs);
}

function wrap(client: Client, sock: Duplex, bastion: Client | undefined, readWriteTimeoutMs: number): SshConnection {
  let isClosed = false;
  let closeReason = "connection closed";
  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  const markClosed = (reason: string): void => {
    if (isClosed) return;
    isClosed = true;
    closeReason = reason;
    bastion?.end();
    resolveClosed(reason);
  };
  client.on("error", (err: Error & { level?: string }) => {
    // keepalive failures arrive as level "client-timeout".
    if (err.level === "client-timeout") markClosed("the server stopped answering keep-alives");
    else markClosed(describeSocketError(err));
  });
  client.on("close", () => markClosed(closeReason === "connection closed" ? "the connection closed" : closeReason));
  bastion?.on("close", () => markClosed("the bastion connection closed"));
  // The socket can end before ssh2 reports its own "close"; a call in between must not reuse it.
  sock.on("close", () => markClosed("the connection closed"));
  if (readWriteTimeoutMs > 0 && "setTimeout" in sock && typeof sock.setTimeout === "function") {
    // ssh_read_write_timeout: a connection with no traffic for this long is dead (keep-alives count as traffic).
    (sock as Socket).setTimeout(readWriteTimeoutMs, () => {
      markClosed(`no traffic for ${formatDuration(readWriteTimeoutMs)} (ssh_read_write_timeout)`);
      sock.destroy();
    });
  }
  return {
    client,
    ...(bastion ? { bastion } : {}),
    get isClosed() {
      return isClosed;
    },
    get closeReason() {
      return closeReason;
    },
    closed,
    end: () => {
      markClosed("closed by imgb");
      client.end();
      bastion?.end();
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
