// Starting a Packer plugin process the way Packer does (packer/plugin/client.go): the magic cookie
// in its environment, then the first stdout line names where it listens:
//   legacy (API 5):          5|unix|/tmp/packer-plugin123
//   packer-plugin-sdk (5.x): 5|0|unix|/tmp/packer-plugin123
// imgb connects, runs a yamux client session on the socket and dials broker stream 0 for net/rpc.
// The process is native and unsandboxed: it runs with the user's rights, as under Packer.
import { loadMsgpack } from "./msgpack.ts";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "./handshake.ts";
import { createConnection, type Socket } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { spawnChild, type Child } from "../process/child.ts";
import { abortReason, interruptSignal } from "../process/interrupts.ts";
import { MuxBroker } from "./mux-broker.ts";
import { RpcClient } from "./rpc.ts";

/** The API major version both legacy plugins and the SDK's print. */
export const API_MAJOR = "5";
/** Minor versions this client speaks (5.0: builders, data sources; 5.1: newer plugin types). */
const API_MINORS = new Set(["0", "1"]);

export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
  ) {
    super(`plugin ${plugin}: ${message}`);
    this.name = "PluginError";
  }
}

export interface PluginConnection {
  /** The binary and arguments, for messages. */
  readonly argv: string[];
  /** Short name for messages: the binary's path. */
  readonly name: string;
  readonly pid: number;
  readonly broker: MuxBroker;
  /** net/rpc on broker stream 0. */
  readonly rpc: RpcClient;
  readonly apiVersion: string;
  /** Resolves with a message when the process exits. */
  readonly exited: Promise<string>;
  /** Close the session, then TERM and KILL the process; resolves when it is gone. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** How long the plugin has to print its address (Packer: 1 minute). */
  startTimeoutMs?: number;
  /** Plugin log lines (its stderr). */
  onLog?: (line: string) => void;
  env?: Record<string, string>;
  /** Aborting kills the plugin (and what it started), also while it is starting. */
  signal?: AbortSignal;
}

export async function startPlugin(argv: string[], opts: StartOptions = {}): Promise<PluginConnection> {
  await loadMsgpack(); // the RPC codec (rpc.ts, cty.ts) uses it synchronously from here on
  const name = argv[0]!;
  let stdoutBuf = "";
  let lineResolve: ((line: string) => void) | undefined;
  const firstLine = new Promise<string>((resolve) => (lineResolve = resolve));
  let stderrPartial = "";
  const child: Child = spawnChild(argv, {
    env: { ...process.env, ...opts.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PACKER_PLUGIN_MIN_PORT: "10000", PACKER_PLUGIN_MAX_PORT: "25000" },
    onStdout: (chunk) => {
      if (!lineResolve) return;
      stdoutBuf += new TextDecoder().decode(chunk);
      const nl = stdoutBuf.indexOf("\n");
      if (nl >= 0) {
        const r = lineResolve;
        lineResolve = undefined;
        r(stdoutBuf.slice(0, nl).trim());
      }
    },
    onStderr: (chunk) => {
      stderrPartial += new TextDecoder().decode(chunk);
      const lines = stderrPartial.split("\n");
      stderrPartial = lines.pop() ?? "";
      for (const l of lines) opts.onLog?.(l);
    },
    graceMs: 2000,
  });
  const exited = child.done.then((r) => {
    const how = r.signalCode ? `was killed by ${r.signalCode}` : `exited with status ${r.exitCode}`;
    const tail = r.stderrTail.trim().split("\n").slice(-5).join("\n").trim();
    return tail ? `${how}: ${tail}` : how;
  });

  let broker: MuxBroker | undefined;
  let killing: Promise<void> | undefined;
  // Closing the session lets a plugin exit on its own; what is still running after a grace period
  // is killed with everything it started (a wrapper script's children hold its pipes open).
  const kill = () =>
    (killing ??= (async () => {
      const tree = descendants(child.pid);
      broker?.close();
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([child.done, new Promise((r) => (grace = setTimeout(r, broker ? 2000 : 0)))]);
      clearTimeout(grace);
      const stopping = child.running() ? child.stop(500) : Promise.resolve();
      for (const pid of tree) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await stopping;
    })());

  // The caller's signal, and the command's Ctrl-C (the plugin ignores SIGINT, as Packer's do).
  const signals = [opts.signal, interruptSignal()].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const onAbort = () => void kill();
  signal?.addEventListener("abort", onAbort, { once: true });
  void child.done.then(() => signal?.removeEventListener("abort", onAbort));
  if (signal?.aborted) onAbort();

  const fail = async (message: string): Promise<never> => {
    await kill();
    // Killed because the command was interrupted (or the caller gave up): say so, not how it ended.
    if (signal?.aborted) throw new PluginError(name, `cancelled while starting: ${abortReason(signal)}; the plugin is killed`);
    throw new PluginError(name, message);
  };

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    firstLine.then((line) => ({ kind: "line" as const, line })),
    exited.then((how) => ({ kind: "exit" as const, how })),
    new Promise<{ kind: "timeout" }>((resolve) => (timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome.kind === "exit") return fail(`${outcome.how} before it printed its address (is it a Packer plugin?)`);
  if (outcome.kind === "timeout") return fail(`printed no address within ${Math.round(timeoutMs / 1000)} s; killed`);

  const address = parseHandshake(outcome.line);
  if ("error" in address) return fail(address.error);

  let socket: Socket;
  try {
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = address.network === "unix" ? createConnection(address.address) : createConnection(Number(address.address.split(":").pop()), address.address.replace(/:\d+$/, ""));
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
  } catch (err) {
    return fail(`cannot connect to ${address.network} ${address.address}: ${(err as Error).message}`);
  }
  broker = new MuxBroker(socket);
  try {
    const stream0 = await withTimeout(broker.dial(0), 10_000, "did not accept the RPC stream");
    const rpc = new RpcClient(stream0, `plugin ${basename(name)}`);
    return { argv, name, pid: child.pid, broker, rpc, apiVersion: address.version, exited, kill };
  } catch (err) {
    await kill();
    throw new PluginError(name, (err as Error).message);
  }
}

type Handshake = { version: string; network: "unix" | "tcp"; address: string } | { error: string };

/** Every process below pid, found through /proc (children of children included). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) if (parent === p) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

export function parseHandshake(line: string): Handshake {
  const parts = line.split("|");
  let version: string;
  let rest: string[];
  if (parts.length === 3) {
    version = parts[0]!;
    rest = parts.slice(1);
    if (version !== API_MAJOR) return { error: `speaks plugin API ${version}, imgb speaks ${API_MAJOR}.0 and ${API_MAJOR}.1 (line: ${line})` };
  } else if (parts.length >= 4) {
    version = `${parts[0]}.${parts[1]}`;
    rest = parts.slice(2);
    if (parts[0] !== API_MAJOR || !API_MINORS.has(parts[1]!))
      return { error: `speaks plugin API ${version}, imgb speaks ${API_MAJOR}.0 and ${API_MAJOR}.1 (line: ${line})` };
  } else {
    return { error: `unrecognized handshake line: ${JSON.stringify(line)}` };
  }
  const [network, address] = rest;
  if (network !== "unix" && network !== "tcp") return { error: `unknown address type ${JSON.stringify(network)} in handshake line ${JSON.stringify(line)}` };
  if (!address) return { error: `no address in handshake line ${JSON.stringify(line)}` };
  return { version, network, address };
}

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`${what} within ${Math.round(ms / 1000)} s`)), ms))),
  ]);
}

/**
 * A call on a plugin's connection that fails with the plugin's exit message when the process dies
 * during it, and with a PluginError naming the binary when it takes longer than timeoutMs.
 */
export async function guardedCall<T>(conn: PluginConnection, path: string, what: string, call: Promise<T>, timeoutMs?: number): Promise<T> {
  const died = conn.exited.then((how) => {
    throw new PluginError(path, `${how} (during ${what})`);
  });
  died.catch(() => undefined);
  try {
    const p = Promise.race([call, died]);
    return await (timeoutMs ? withTimeout(p, timeoutMs, `${what} did not answer`) : p);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    if (err instanceof TimeoutError) throw new PluginError(path, `${err.message}; the plugin is killed`);
    // A broken connection usually means the process died: wait a moment for its exit message.
    const how = await Promise.race([conn.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]);
    if (how) throw new PluginError(path, `${how} (during ${what})`);
    throw new PluginError(path, `${what}: ${(err as Error).message}`);
  }
}
