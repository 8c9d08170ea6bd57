// The SSH communicator's template keys (Packer's `ssh_*` options) as a schema builders merge into
// their own, and the checked, typed SshConfig the communicator runs on.
import { issuePath } from "../../errors/valibot-issues.ts";
import * as v from "valibot";
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import type { ConfigField } from "../../config/schema.ts";
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

const f = (name: string, type: ConfigField["type"], description: string, def?: ConfigField["default"]): ConfigField =>
  def === undefined ? { name, type, description } : { name, type, description, default: def };

/** Every key the SSH communicator reads; builders append these to their schema's fields. */
export const sshConfigFields: ConfigField[] = [
  f("ssh_host", "string", "Address to connect to; usually set by the builder."),
  f("ssh_port", "number", "Port to connect to.", 22),
  f("ssh_username", "string", "User to log in as (required)."),
  f("ssh_password", "string", "Password for password and keyboard-interactive authentication."),
  f("ssh_private_key_file", "string", "Private key file for public-key authentication (~ expands)."),
  f("ssh_certificate_file", "string", "OpenSSH user certificate for ssh_private_key_file (~ expands)."),
  f("ssh_agent_auth", "bool", "Authenticate with the agent at SSH_AUTH_SOCK; password and key file are ignored.", false),
  f("ssh_timeout", "string", "How long to keep trying to connect (Go duration).", "5m"),
  f("ssh_wait_timeout", "string", "Old name of ssh_timeout (Packer's SDK still reads it, and it wins when set)."),
  f("ssh_handshake_attempts", "number", "Handshake (including authentication) failures tolerated once TCP connects.", 10),
  f("ssh_keep_alive_interval", "string", "Keep-alive interval (Go duration); negative disables.", "5s"),
  f("ssh_read_write_timeout", "string", "A connection silent this long counts as dropped (Go duration); 0 disables.", "0s"),
  f("ssh_pty", "bool", "Request a PTY for commands.", false),
  f("ssh_bastion_host", "string", "Bastion host to reach ssh_host through."),
  f("ssh_bastion_port", "number", "Bastion port.", 22),
  f("ssh_bastion_username", "string", "Bastion user."),
  f("ssh_bastion_password", "string", "Bastion password."),
  f("ssh_bastion_private_key_file", "string", "Bastion private key file (~ expands)."),
  f("ssh_bastion_certificate_file", "string", "OpenSSH user certificate for ssh_bastion_private_key_file."),
  f("ssh_bastion_agent_auth", "bool", "Authenticate to the bastion with the SSH agent.", false),
  f("ssh_bastion_host_key", "string", "Pin for the bastion's host key (like ssh_host_key)."),
  f("ssh_proxy_host", "string", "SOCKS5 proxy to open the connection through."),
  f("ssh_proxy_port", "number", "SOCKS5 proxy port.", 1080),
  f("ssh_proxy_username", "string", "SOCKS5 proxy user (RFC 1929)."),
  f("ssh_proxy_password", "string", "SOCKS5 proxy password."),
  f("ssh_local_tunnels", "list(string)", "Like ssh -L: \"[bind_address:]port:host:hostport\", listening here (loopback by default)."),
  f("ssh_remote_tunnels", "list(string)", "Like ssh -R: \"[bind_address:]port:host:hostport\", listening on the machine."),
  f("ssh_file_transfer_method", "string", '"sftp" or "scp".', "sftp"),
  f("ssh_disable_agent_forwarding", "bool", "Do not forward the local SSH agent.", false),
  f("ssh_clear_authorized_keys", "bool", "On cleanup, remove the temporary key from ~/.ssh/authorized_keys.", false),
  f("ssh_host_key", "string", 'Expected host key: "ssh-ed25519 AAAA..." or a "SHA256:..." fingerprint.'),
  f("ssh_known_hosts_file", "string", "known_hosts file to check the host key against (default ~/.ssh/known_hosts)."),
  f("ssh_trust_on_first_use", "bool", "Accept an unknown host key on first connection and pin it for the build.", false),
  f("ssh_ciphers", "list(string)", "Cipher preference list."),
  f("ssh_key_exchange_algorithms", "list(string)", "Key-exchange preference list."),
  f("temporary_key_pair_name", "string", "Comment of the temporary key pair a builder generates."),
];

// Legacy JSON templates get Go's weak decoding: "22" is a port, "true" a bool.
const weakNumber = v.union([
  v.number(),
  v.pipe(v.string(), v.regex(/^\s*-?\d+\s*$/, "expected a number"), v.transform(Number)),
]);
const weakBool = v.union([v.boolean(), v.pipe(v.picklist(["true", "false"]), v.transform((s) => s === "true"))]);
const str = v.string();

const RawSshSchema = v.looseObject({
  ssh_host: v.optional(str),
  ssh_port: v.optional(weakNumber),
  ssh_username: v.optional(str),
  ssh_password: v.optional(str),
  ssh_private_key_file: v.optional(str),
  ssh_agent_auth: v.optional(weakBool),
  ssh_certificate_file: v.optional(str),
  ssh_timeout: v.optional(str),
  ssh_wait_timeout: v.optional(str),
  ssh_handshake_attempts: v.optional(weakNumber),
  ssh_keep_alive_interval: v.optional(str),
  ssh_read_write_timeout: v.optional(str),
  ssh_pty: v.optional(weakBool),
  ssh_bastion_host: v.optional(str),
  ssh_bastion_port: v.optional(weakNumber),
  ssh_bastion_username: v.optional(str),
  ssh_bastion_password: v.optional(str),
  ssh_bastion_private_key_file: v.optional(str),
  ssh_bastion_certificate_file: v.optional(str),
  ssh_bastion_agent_auth: v.optional(weakBool),
  ssh_bastion_host_key: v.optional(str),
  ssh_file_transfer_method: v.optional(str),
  ssh_local_tunnels: v.optional(v.array(str)),
  ssh_remote_tunnels: v.optional(v.array(str)),
  ssh_proxy_host: v.optional(str),
  ssh_proxy_port: v.optional(weakNumber),
  ssh_proxy_username: v.optional(str),
  ssh_proxy_password: v.optional(str),
  ssh_disable_agent_forwarding: v.optional(weakBool),
  ssh_clear_authorized_keys: v.optional(weakBool),
  ssh_host_key: v.optional(str),
  ssh_known_hosts_file: v.optional(str),
  ssh_trust_on_first_use: v.optional(weakBool),
  ssh_ciphers: v.optional(v.array(str)),
  ssh_key_exchange_algorithms: v.optional(v.array(str)),
  temporary_key_pair_name: v.optional(str),
});

/**
 * Checks the `ssh_*` keys of a decoded builder config. Unknown keys are left alone (the builder's
 * schema owns them). `range` is where the block is, for the diagnostics.
 */
export function parseSshConfig(raw: JsonObject, range?: SourceRange): { config?: SshConfig; diagnostics: Diagnostic[] } {
  const parsed = v.safeParse(RawSshSchema, raw);
  if (!parsed.success) {
    return {
      diagnostics: parsed.issues.map((i) => errorDiag(`invalid ${issuePath(i) ?? "ssh"}: ${i.message}`, range)),
    };
  }
  const r = parsed.output;
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
