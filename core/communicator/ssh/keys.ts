// A builder's temporary key pair (Packer's SSHPublicKey / SSHPrivateKey) and the `build.*` values
// a builder publishes for an SSH connection.
import { loadSsh2 } from "./ssh2.ts";
import type { JsonValue } from "../../values/json.ts";
import type { SshConfig } from "./config.ts";
import type { ConnectionKey } from "../../builders/common/generated-data.ts";

export interface TemporaryKeyPair {
  /** authorized_keys line: "ssh-ed25519 AAAA... <name>". */
  publicKey: string;
  /** OpenSSH private key text. */
  privateKey: string;
}

/** An ed25519 key pair whose public line ends with `name` (Packer: temporary_key_pair_name, "packer_<uuid>"). */
export async function generateTemporaryKeyPair(name: string): Promise<TemporaryKeyPair> {
  const kp = (await loadSsh2()).utils.generateKeyPairSync("ed25519", { comment: name });
  return { publicKey: `${kp.public.trim()}\n`, privateKey: kp.private };
}

/** Packer's generated data for an SSH build: Host, Port, User, Password, ConnType, SSHPublicKey, SSHPrivateKey. */
export function sshGeneratedValues(config: SshConfig, keyPair?: TemporaryKeyPair): Record<ConnectionKey | "SSHPrivateKeyFile" | "SSHAgentAuth", JsonValue> {
  return {
    Host: config.host,
    Port: config.port,
    User: config.username,
    Password: config.password ?? "",
    ConnType: "ssh",
    SSHPublicKey: keyPair?.publicKey ?? "",
    SSHPrivateKey: keyPair?.privateKey ?? config.privateKey ?? "",
    // Read by provisioners that connect on their own (ansible with use_proxy = false), as in Packer.
    SSHPrivateKeyFile: keyPair ? "" : (config.privateKeyFile ?? ""),
    SSHAgentAuth: config.agentAuth ?? false,
  };
}
