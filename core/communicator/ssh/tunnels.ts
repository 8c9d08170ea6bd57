// ssh_local_tunnels and ssh_remote_tunnels: Packer's `-L` and `-R` for the build's SSH connection.
// A spec is "[bind_address:]port:host:hostport", as OpenSSH writes it. Local tunnels listen on this
// machine (loopback unless a bind address is given) and open a direct-tcpip channel per connection;
// remote tunnels ask the server to listen and connect each forwarded connection to host:hostport here.
import { connect as tcpConnect, createServer, type Server } from "node:net";
import type { Client } from "ssh2";

export interface TunnelSpec {
  bindAddress: string;
  port: number;
  host: string;
  hostPort: number;
  text: string;
}

/** Parses one spec; returns a message when it is not "[bind_address:]port:host:hostport". */
export function parseTunnel(text: string, key: string): TunnelSpec | string {
  const parts = text.split(":");
  if (parts.length !== 3 && parts.length !== 4) return `${key}: ${JSON.stringify(text)} is not [bind_address:]port:host:hostport`;
  const [bind, port, host, hostPort] = parts.length === 4 ? parts : ["", ...parts];
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) && Number(s) >= 0 && Number(s) <= 65535 ? Number(s) : undefined);
  const p = num(port);
  const hp = num(hostPort);
  if (p === undefined || hp === undefined || !host) return `${key}: ${JSON.stringify(text)}: ports must be 0-65535 and host must be set`;
  // Loopback unless a bind address is given, as OpenSSH does for -L and -R.
  return { bindAddress: bind || "127.0.0.1", port: p, host, hostPort: hp, text };
}

/** The tunnels of one communicator; `attach` is called with every (re)established connection. */
export class Tunnels {
  private servers: Server[] = [];
  private client: Client | undefined;

  constructor(
    private readonly local: TunnelSpec[],
    private readonly remote: TunnelSpec[],
  ) {}

  get empty(): boolean {
    return this.local.length === 0 && this.remote.length === 0;
  }

  /** Starts the local listeners once and (re)requests the remote ones on this connection. */
  async attach(client: Client): Promise<void> {
    this.client = client;
    if (this.servers.length === 0) for (const t of this.local) this.servers.push(await this.listenLocal(t));
    for (const t of this.remote) await this.requestRemote(client, t);
    client.on("tcp connection", (info, accept, reject) => {
      const t = this.remote.find((r) => r.port === info.destPort || r.port === 0);
      if (!t) return reject();
      const local = tcpConnect({ host: t.host, port: t.hostPort });
      local.once("connect", () => {
        const channel = accept();
        channel.pipe(local).pipe(channel);
        channel.on("error", () => local.destroy());
      });
      local.once("error", () => reject());
    });
  }

  private listenLocal(t: TunnelSpec): Promise<Server> {
    const server = createServer((sock) => {
      const client = this.client;
      if (!client) return sock.destroy();
      client.forwardOut(sock.remoteAddress ?? "127.0.0.1", sock.remotePort ?? 0, t.host, t.hostPort, (err, channel) => {
        if (err) return sock.destroy();
        sock.pipe(channel).pipe(sock);
        sock.on("error", () => channel.close());
        channel.on("error", () => sock.destroy());
      });
    });
    return new Promise((resolve, reject) => {
      server.once("error", (e) => reject(new Error(`ssh_local_tunnels ${t.text}: cannot listen on ${t.bindAddress}:${t.port}: ${e.message}`)));
      server.listen(t.port, t.bindAddress, () => resolve(server));
    });
  }

  private requestRemote(client: Client, t: TunnelSpec): Promise<void> {
    return new Promise((resolve, reject) =>
      client.forwardIn(t.bindAddress, t.port, (err) =>
        err ? reject(new Error(`ssh_remote_tunnels ${t.text}: the server refused to listen on port ${t.port}: ${err.message}`)) : resolve(),
      ),
    );
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.servers = [];
  }
}
