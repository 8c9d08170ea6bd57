// Which authentication methods a connection offers, in Packer's order: the agent alone when
// ssh_agent_auth is set; otherwise the private key, then the password (sent for both "password"
// and "keyboard-interactive", as Packer does). Records what was tried for the error message.
import { readFileSync } from "node:fs";
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware } from "ssh2";
import { ssh2 } from "./ssh2.ts";
import { expandHome } from "./paths.ts";
import { withCertificate } from "./certificate.ts";

export interface Credentials {
  username: string;
  password?: string;
  privateKeyFile?: string;
  /** Key text given directly (a builder's temporary key). */
  privateKey?: string;
  /** Passphrase of privateKeyFile (asked on the terminal). */
  privateKeyPassphrase?: string;
  /** ssh_certificate_file: an OpenSSH certificate for privateKeyFile's key. */
  certificateFile?: string;
  agentAuth: boolean;
}

export interface AuthPlan {
  handler: AuthHandlerMiddleware;
  /** Method names offered so far, in order. */
  tried: string[];
}

/** Builds the method list, or returns a message when the configuration cannot authenticate at all. */
/** True when the key text is encrypted (ssh2 cannot read it without a passphrase). */
export function keyNeedsPassphrase(text: string): boolean {
  const parsed = ssh2().utils.parseKey(text);
  return parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message);
}

/** Whether the passphrase opens the key. */
export function passphraseOpens(text: string, passphrase: string): boolean {
  return !(ssh2().utils.parseKey(text, passphrase) instanceof Error);
}

export function planAuth(c: Credentials, keyName = "ssh_private_key_file"): AuthPlan | string {
  const certName = keyName.replace("private_key_file", "certificate_file");
  const methods: AnyAuthMethod[] = [];
  const username = c.username;
  if (c.agentAuth) {
    const sock = process.env.SSH_AUTH_SOCK;
    if (!sock) return "ssh_agent_auth is set but SSH_AUTH_SOCK is not (no SSH agent to use)";
    methods.push({ type: "agent", username, agent: sock });
  } else {
    const keys: Array<{ text: string; from: string; passphrase?: string; certificate?: { text: string; from: string } }> = [];
    if (c.privateKey) keys.push({ text: c.privateKey, from: "the temporary key" });
    if (c.privateKeyFile) {
      const path = expandHome(c.privateKeyFile);
      try {
        keys.push({ text: readFileSync(path, "utf8"), from: `${keyName} ${path}`, ...(c.privateKeyPassphrase !== undefined ? { passphrase: c.privateKeyPassphrase } : {}) });
      } catch (err) {
        return `cannot read ${keyName} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      }
      if (c.certificateFile) {
        const certPath = expandHome(c.certificateFile);
        try {
          keys[keys.length - 1]!.certificate = { text: readFileSync(certPath, "utf8"), from: `${certName} ${certPath}` };
        } catch (err) {
          return `cannot read ${certName} ${certPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
        }
      }
    } else if (c.certificateFile) {
      return `${certName} needs ${keyName} (the certificate's private key)`;
    }
    for (const k of keys) {
      const parsed = k.passphrase !== undefined ? ssh2().utils.parseKey(k.text, k.passphrase) : ssh2().utils.parseKey(k.text);
      if (parsed instanceof Error) return `${k.from} is not a usable private key: ${parsed.message}`;
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (!key || !key.isPrivateKey()) return `${k.from} is not a private key`;
      if (k.certificate) {
        const certified = withCertificate(key, k.certificate.text, k.certificate.from);
        if (typeof certified === "string") return certified;
        methods.push({ type: "publickey", username, key: certified });
        continue;
      }
      methods.push({ type: "publickey", username, key });
    }
    if (c.password !== undefined && c.password !== "") {
      const password = c.password;
      methods.push({ type: "password", username, password });
      methods.push({
        type: "keyboard-interactive",
        username,
        prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
      });
    }
  }
  if (methods.length === 0) {
    return "no authentication method configured: set ssh_password, ssh_private_key_file or ssh_agent_auth";
  }
  const tried: string[] = [];
  const queue = [...methods];
  const handler: AuthHandlerMiddleware = (methodsLeft: AuthenticationType[] | null, _partial, next) => {
    // Skip what the server does not offer; null on the first call means "not known yet".
    while (queue.length) {
      const m = queue.shift()!;
      const wireName = m.type === "agent" ? "publickey" : m.type;
      if (methodsLeft && !methodsLeft.includes(wireName as AuthenticationType)) continue;
      const label = m.type === "publickey" || m.type === "agent" ? `publickey${m.type === "agent" ? " (agent)" : ""}` : m.type;
      if (!tried.includes(label)) tried.push(label);
      next(m);
      return;
    }
    next(false as unknown as AuthenticationType);
  };
  return { handler, tried };
}
