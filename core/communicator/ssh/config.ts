// The SSH communicator's template keys (Packer's `ssh_*` options) as a schema builders merge into
// their own, and the checked, typed SshConfig the communicator runs on.
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { decode } from "../../config/decode.ts";
import { issueDiagnostic } from "../../config/messages.ts";
import { defineFields, type ConfigOf } from "../../config/schema.ts";
import type { JsonObject } from "../../values/json.ts";
import { parseGoDuration } from "../../values/go-duration.ts";
import { parseHostKeyPin } from "./hostkey.ts";
import type { SocksProxy } from "./socks.ts";
import { parseTunnel, type TunnelSpec } from "./tunnels.ts";

export type FileTransferMethod = "sftp" | "scp";

export interface SshBastionConfig {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKeyFile?: string;
  certificateFile?: string;
  agentAuth: boolean;
  /** Pin for the bastion's host key (same forms as ssh_host_key). */
  hostKey?: string;
}

export interface SshConfig {
  /** May be empty while a builder has not learnt the address yet; connectSsh requires it. */
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKeyFile?: string;
  /** ssh_certificate_file: offered with privateKeyFile's key. */
  certificateFile?: string;
  /** Passphrase of privateKeyFile, asked on the terminal when the key is encrypted. */
  privateKeyPassphrase?: string;
  /** A private key given directly, e.g. a builder's temporary key (not a template key). */
  privateKey?: string;
  /** The authorized_keys line of a builder's temporary key; ssh_clear_authorized_keys removes it. */
  temporaryPublicKey?: string;
  /** temporary_key_pair_name: the comment a builder gives its temporary key (Packer: "packer_<uuid>"). */
  temporaryKeyPairName?: string;
  agentAuth: boolean;
  timeoutMs: number;
  /**
   * A builder's cap on one connection attempt (not a template key): a NAT-forwarded port (QEMU's
   * user network) accepts at once even while the guest is down, then stays silent.
   */
  attemptTimeoutMs?: number;
  handshakeAttempts: number;
  /** <= 0 disables keep-alives. */
  keepAliveIntervalMs: number;
  /** 0 = disabled: otherwise a connection silent for this long is treated as dropped. */
  readWriteTimeoutMs: number;
  pty: boolean;
  bastion?: SshBastionConfig;
  localTunnels?: TunnelSpec[];
  remoteTunnels?: TunnelSpec[];
  /** ssh_proxy_*: the TCP connection to host:port is opened by this SOCKS5 proxy. */
  proxy?: SocksProxy;
  fileTransferMethod: FileTransferMethod;
  disableAgentForwarding: boolean;
  clearAuthorizedKeys: boolean;
  /** "ssh-ed25519 AAAA..." or "SHA256:..." */
  hostKey?: string;
  /** undefined: ~/.ssh/known_hosts when it exists. */
  knownHostsFile?: string;
  trustOnFirstUse: boolean;
  ciphers?: string[];
  keyExchangeAlgorithms?: string[];
}

/** Every key the SSH communicator reads; builders append these to their schema's fields. */
export const sshConfigFields = defineFields([
  { name: "ssh_host", type: "string", description: "Address to connect to; usually set by the builder." },
  { name: "ssh_port", type: "number", description: "Port to connect to.", default: 22 },
  { name: "ssh_username", type: "string", description: "User to log in as (required)." },
  { name: "ssh_password", type: "string", description: "Password for password and keyboard-interactive authentication." },
  { name: "ssh_private_key_file", type: "string", description: "Private key file for public-key authentication (~ expands)." },
  { name: "ssh_certificate_file", type: "string", description: "OpenSSH user certificate for ssh_private_key_file (~ expands)." },
  { name: "ssh_agent_auth", type: "bool", description: "Authenticate with the agent at SSH_AUTH_SOCK; password and key file are ignored.", default: false },
  { name: "ssh_timeout", type: "string", description: "How long to keep trying to connect (Go duration).", default: "5m" },
  { name: "ssh_wait_timeout", type: "string", description: "Old name of ssh_timeout (Packer's SDK still reads it, and it wins when set)." },
  { name: "ssh_handshake_attempts", type: "number", description: "Handshake (including authentication) failures tolerated once TCP connects.", default: 10 },
  { name: "ssh_keep_alive_interval", type: "string", description: "Keep-alive interval (Go duration); negative disables.", default: "5s" },
  { name: "ssh_read_write_timeout", type: "string", description: "A connection silent this long counts as dropped (Go duration); 0 disables.", default: "0s" },
  { name: "ssh_pty", type: "bool", description: "Request a PTY for commands.", default: false },
  { name: "ssh_bastion_host", type: "string", description: "Bastion host to reach ssh_host through." },
  { name: "ssh_bastion_port", type: "number", description: "Bastion port.", default: 22 },
  { name: "ssh_bastion_username", type: "string", description: "Bastion user." },
  { name: "ssh_bastion_password", type: "string", description: "Bastion password." },
  { name: "ssh_bastion_private_key_file", type: "string", description: "Bastion private key file (~ expands)." },
  { name: "ssh_bastion_certificate_file", type: "string", description: "OpenSSH user certificate for ssh_bastion_private_key_file." },
  { name: "ssh_bastion_agent_auth", type: "bool", description: "Authenticate to the bastion with the SSH agent.", default: false },
  { name: "ssh_bastion_host_key", type: "string", description: "Pin for the bastion's host key (like ssh_host_key)." },
  { name: "ssh_proxy_host", type: "string", description: "SOCKS5 proxy to open the connection through." },
  { name: "ssh_proxy_port", type: "number", description: "SOCKS5 proxy port.", default: 1080 },
  { name: "ssh_proxy_username", type: "string", description: "SOCKS5 proxy user (RFC 1929)." },
  { name: "ssh_proxy_password", type: "string", description: "SOCKS5 proxy password." },
  { name: "ssh_local_tunnels", type: "list(string)", description: "Like ssh -L: \"[bind_address:]port:host:hostport\", listening here (loopback by default)." },
  { name: "ssh_remote_tunnels", type: "list(string)", description: "Like ssh -R: \"[bind_address:]port:host:hostport\", listening on the machine." },
  { name: "ssh_file_transfer_method", type: "string", description: '"sftp" or "scp".', default: "sftp" },
  { name: "ssh_disable_agent_forwarding", type: "bool", description: "Do not forward the local SSH agent.", default: false },
  { name: "ssh_clear_authorized_keys", type: "bool", description: "On cleanup, remove the temporary key from ~/.ssh/authorized_keys.", default: false },
  { name: "ssh_host_key", type: "string", description: 'Expected host key: "ssh-ed25519 AAAA..." or a "SHA256:..." fingerprint.' },
  { name: "ssh_known_hosts_file", type: "string", description: "known_hosts file to check the host key against (default ~/.ssh/known_hosts)." },
  { name: "ssh_trust_on_first_use", type: "bool", description: "Accept an unknown host key on first connection and pin it for the build.", default: false },
  { name: "ssh_ciphers", type: "list(string)", description: "Cipher preference list." },
  { name: "ssh_key_exchange_algorithms", type: "list(string)", description: "Key-exchange preference list." },
  { name: "temporary_key_pair_name", type: "string", description: "Comment of the temporary key pair a builder generates." },
]);

/**
 * Checks the `ssh_*` keys of a decoded builder config. Unknown keys are left alone (the builder's
 * schema owns them). `range` is where the block is, for the diagnostics.
 */
export function parseSshConfig(raw: JsonObject, range?: SourceRange): { config?: SshConfig; diagnostics: Diagnostic[] } {
  // The builder's schema owns the other keys; only the ssh_* keys that are set are decoded here.
  const decoded = decode({ fields: sshConfigFields, allowUnknown: true }, raw, { partial: true });
  if (decoded.issues.length > 0) return { diagnostics: decoded.issues.map((i) => issueDiagnostic(i, range ? { range } : {})) };
  // Safe: every ssh_* key present was converted to its declared type.
  const r = decoded.value as Partial<ConfigOf<typeof sshConfigFields>>;
  const diags: Diagnostic[] = [];
  const bad = (msg: string): void => void diags.push(errorDiag(msg, range));

  const duration = (key: string, text: string | undefined, def: number): number => {
    if (text === undefined || text === "") return def;
    const d = parseGoDuration(text);
    if (!d.ok) {
      bad(`${key}: ${JSON.stringify(text)} is not a duration (examples: "30s", "5m", "1h5m2s")`);
      return def;
    }
    return d.ms;
  };
  const port = (key: string, n: number | undefined): number => {
    if (n === undefined) return 22;
    if (!Number.isInteger(n) || n < 1 || n > 65535) bad(`${key}: ${n} is not a TCP port (1-65535)`);
    return n;
  };
  const pin = (key: string, text: string | undefined): string | undefined => {
    if (text === undefined || text === "") return undefined;
    if (!parseHostKeyPin(text)) bad(`${key}: expected "ssh-ed25519 AAAA..." (a public key line) or "SHA256:..." (a fingerprint)`);
    return text.trim();
  };

  if (!r.ssh_username) bad("ssh_username must be specified");
  const method = r.ssh_file_transfer_method ?? "sftp";
  if (method !== "sftp" && method !== "scp") bad(`ssh_file_transfer_method: ${JSON.stringify(method)} must be "sftp" or "scp"`);
  const attempts = r.ssh_handshake_attempts ?? 10;
  if (!Number.isInteger(attempts) || attempts < 1) bad("ssh_handshake_attempts must be a positive integer");

  const config: SshConfig = {
    host: r.ssh_host ?? "",
    port: port("ssh_port", r.ssh_port),
    username: r.ssh_username ?? "",
    agentAuth: r.ssh_agent_auth ?? false,
    // packer-plugin-sdk's communicator.Config.Prepare: a non-zero SSHWaitTimeout replaces SSHTimeout.
    timeoutMs: r.ssh_wait_timeout ? duration("ssh_wait_timeout", r.ssh_wait_timeout, 5 * 60_000) : duration("ssh_timeout", r.ssh_timeout, 5 * 60_000),
    handshakeAttempts: attempts,
    keepAliveIntervalMs: duration("ssh_keep_alive_interval", r.ssh_keep_alive_interval, 5000),
    readWriteTimeoutMs: Math.max(0, duration("ssh_read_write_timeout", r.ssh_read_write_timeout, 0)),
    pty: r.ssh_pty ?? false,
    fileTransferMethod: method === "scp" ? "scp" : "sftp",
    disableAgentForwarding: r.ssh_disable_agent_forwarding ?? false,
    clearAuthorizedKeys: r.ssh_clear_authorized_keys ?? false,
    trustOnFirstUse: r.ssh_trust_on_first_use ?? false,
  };
  if (config.timeoutMs < 0) bad("ssh_timeout must not be negative");
  if (r.ssh_password) config.password = r.ssh_password;
  if (r.ssh_private_key_file) config.privateKeyFile = r.ssh_private_key_file;
  if (r.ssh_certificate_file) config.certificateFile = r.ssh_certificate_file;
  const hostKey = pin("ssh_host_key", r.ssh_host_key);
  if (hostKey) config.hostKey = hostKey;
  if (r.ssh_known_hosts_file) config.knownHostsFile = r.ssh_known_hosts_file;
  if (r.temporary_key_pair_name) config.temporaryKeyPairName = r.temporary_key_pair_name;
  if (r.ssh_ciphers?.length) config.ciphers = r.ssh_ciphers;
  if (r.ssh_key_exchange_algorithms?.length) config.keyExchangeAlgorithms = r.ssh_key_exchange_algorithms;

  for (const [key, list] of [["ssh_local_tunnels", r.ssh_local_tunnels], ["ssh_remote_tunnels", r.ssh_remote_tunnels]] as const) {
    const specs: TunnelSpec[] = [];
    for (const text of list ?? []) {
      const t = parseTunnel(text, key);
      if (typeof t === "string") bad(t);
      else specs.push(t);
    }
    if (specs.length) config[key === "ssh_local_tunnels" ? "localTunnels" : "remoteTunnels"] = specs;
  }

  if (r.ssh_proxy_host) {
    if (r.ssh_bastion_host) bad("ssh_proxy_host and ssh_bastion_host cannot both be set");
    const proxy: SocksProxy = { host: r.ssh_proxy_host, port: r.ssh_proxy_port === undefined ? 1080 : port("ssh_proxy_port", r.ssh_proxy_port) };
    if (r.ssh_proxy_username) proxy.username = r.ssh_proxy_username;
    if (r.ssh_proxy_password) proxy.password = r.ssh_proxy_password;
    config.proxy = proxy;
  }

  if (r.ssh_bastion_host) {
    const b: SshBastionConfig = {
      host: r.ssh_bastion_host,
      port: port("ssh_bastion_port", r.ssh_bastion_port),
      username: r.ssh_bastion_username ?? "",
      agentAuth: r.ssh_bastion_agent_auth ?? false,
    };
    if (!b.username) bad("ssh_bastion_username must be specified with ssh_bastion_host");
    if (r.ssh_bastion_password) b.password = r.ssh_bastion_password;
    if (r.ssh_bastion_private_key_file) b.privateKeyFile = r.ssh_bastion_private_key_file;
    if (r.ssh_bastion_certificate_file) b.certificateFile = r.ssh_bastion_certificate_file;
    const bk = pin("ssh_bastion_host_key", r.ssh_bastion_host_key);
    if (bk) b.hostKey = bk;
    if (!b.password && !b.privateKeyFile && !b.agentAuth) {
      bad("ssh_bastion_host needs ssh_bastion_password, ssh_bastion_private_key_file or ssh_bastion_agent_auth");
    }
    config.bastion = b;
  }
  return diags.length ? { diagnostics: diags } : { config, diagnostics: [] };
}
