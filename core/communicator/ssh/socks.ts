// A SOCKS5 client (RFC 1928, with RFC 1929 username/password) for ssh_proxy_host: the SSH
// connection's TCP stream is opened by the proxy, as Packer's communicator does with
// golang.org/x/net/proxy. The target name goes to the proxy unresolved (the proxy may be the only
// one who can resolve it).
import { connect as tcpConnect, isIP, type Socket } from "node:net";

export interface SocksProxy {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

const REPLIES: Record<number, string> = {
  1: "general SOCKS server failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

export class SocksError extends Error {}

/** Reads exactly n bytes from the socket (the handshake is short and strictly request/response). */
function reader(sock: Socket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  const pump = () => {
    if (waiting && buffered.length >= waiting.n) {
      const out = buffered.subarray(0, waiting.n);
      buffered = buffered.subarray(waiting.n);
      const w = waiting;
      waiting = undefined;
      w.resolve(Buffer.from(out));
    }
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    pump();
  };
  const onEnd = () => waiting?.reject(new SocksError("the proxy closed the connection during the SOCKS handshake"));
  sock.on("data", onData);
  sock.once("end", onEnd);
  return (n) =>
    new Promise<Buffer>((resolve, reject) => {
      waiting = { n, resolve, reject };
      pump();
    });
}

/** Opens a TCP stream to host:port through the proxy; the returned socket carries raw bytes after. */
export async function socksConnect(proxy: SocksProxy, host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = tcpConnect({ host: proxy.host, port: proxy.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new SocksError("timed out connecting to the proxy"));
    }, timeoutMs);
    const onAbort = () => {
      clearTimeout(timer);
      s.destroy();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    s.once("connect", () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(s);
    });
    s.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(new SocksError(e.code === "ECONNREFUSED" ? "connection refused" : e.message));
    });
  });
  try {
    const read = reader(sock);
    const withAuth = proxy.username !== undefined && proxy.username !== "";
    sock.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
    const [ver, method] = await read(2);
    if (ver !== 5) throw new SocksError("the proxy does not speak SOCKS5");
    if (method === 0xff) throw new SocksError(withAuth ? "the proxy accepts none of our authentication methods" : "the proxy requires a username and password (ssh_proxy_username, ssh_proxy_password)");
    if (method === 2) {
      if (!withAuth) throw new SocksError("the proxy asked for a username and password, but ssh_proxy_username is not set");
      const u = Buffer.from(proxy.username!);
      const p = Buffer.from(proxy.password ?? "");
      if (u.length > 255 || p.length > 255) throw new SocksError("ssh_proxy_username and ssh_proxy_password must be at most 255 bytes");
      sock.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
      const [, status] = await read(2);
      if (status !== 0) throw new SocksError(`the proxy refused user ${JSON.stringify(proxy.username)}`);
    } else if (method !== 0) {
      throw new SocksError(`the proxy chose an unknown authentication method ${method}`);
    }
    const family = isIP(host);
    const addr =
      family === 4
        ? Buffer.from([1, ...host.split(".").map(Number)])
        : family === 6
          ? Buffer.concat([Buffer.from([4]), ipv6Bytes(host)])
          : Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)]);
    sock.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, Buffer.from([port >> 8, port & 0xff])]));
    const [, rep, , atyp] = await read(4);
    if (rep !== 0) throw new SocksError(`the proxy could not connect to ${host}:${port}: ${REPLIES[rep!] ?? `reply ${rep}`}`);
    const rest = atyp === 1 ? 4 : atyp === 4 ? 16 : (await read(1))[0]!;
    await read(rest + 2);
    sock.removeAllListeners("data");
    sock.removeAllListeners("end");
    return sock;
  } catch (e) {
    sock.destroy();
    throw e;
  }
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}
