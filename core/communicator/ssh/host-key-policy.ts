// Which host keys a connection accepts. In order:
//   1. ssh_host_key pins the key (a public key line or a SHA256 fingerprint): nothing else is accepted.
//   2. A key accepted earlier by this communicator is pinned for the rest of the build, so a
//      reconnect (after a reboot) must present the same key.
//   3. The known_hosts file (ssh_known_hosts_file, default ~/.ssh/known_hosts when it exists):
//      a recorded key must match; a changed or revoked key is refused, naming both fingerprints.
//   4. A host the file does not know is accepted only when
//        - ssh_trust_on_first_use = true (said on the UI, pinned for the build, not written anywhere), or
//        - the address is a loopback address reached directly (no bastion): a builder forwarding a
//          local port to a guest it just created (`ssh_host = "127.0.0.1"`) cannot know the fresh
//          guest's key, and the loopback interface cannot be reached from another machine. Said on the UI.
//      Anything else is refused with the options that would allow it.
// Never written to known_hosts: build machines are fresh each time, and a stale entry would only
// turn the next build into a "changed key" error.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isIP } from "node:net";
import type { Ui } from "../../ui/types.ts";
import {
  checkKnownHosts,
  describeKey,
  describePin,
  fingerprint,
  knownKeyTypes,
  parseHostKeyPin,
  parseKnownHosts,
  pinMatches,
  type KnownHostEntry,
} from "./hostkey.ts";
import { expandHome } from "./paths.ts";

export interface HostKeyPolicyOptions {
  host: string;
  port: number;
  /** ssh_host_key / ssh_bastion_host_key */
  pin?: string;
  knownHostsFile?: string;
  trustOnFirstUse: boolean;
  /** Reached through a bastion: "loopback" then means the bastion's own loopback. */
  viaBastion: boolean;
}

export type HostKeyDecision = { ok: true } | { ok: false; reason: string };

export class HostKeyPolicy {
  /** The key this communicator accepted first; later connections must present it. */
  private accepted: Buffer | undefined;
  private entries: KnownHostEntry[] = [];
  private knownHostsPath: string | undefined;

  constructor(
    private readonly opts: HostKeyPolicyOptions,
    private readonly ui: Ui,
  ) {}

  /** Reads the known_hosts file; returns an error message when a configured file is missing. */
  load(): string | null {
    const explicit = this.opts.knownHostsFile !== undefined;
    const path = expandHome(this.opts.knownHostsFile ?? "~/.ssh/known_hosts");
    if (!existsSync(path)) return explicit ? `ssh_known_hosts_file ${path} does not exist` : null;
    try {
      this.entries = parseKnownHosts(readFileSync(path, "utf8"));
      this.knownHostsPath = path;
    } catch (err) {
      return `cannot read known_hosts file ${path}: ${(err as Error).message}`;
    }
    return null;
  }

  /** Host key algorithms to ask for first, so the server presents a key type we have on record. */
  preferredAlgorithms(): string[] {
    const pin = this.opts.pin ? parseHostKeyPin(this.opts.pin) : null;
    const types = pin?.kind === "key" ? [pin.key.type] : knownKeyTypes(this.entries, this.opts.host, this.opts.port);
    return types.flatMap((t) => (t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [t]));
  }

  decide(blob: Buffer): HostKeyDecision {
    const presented = describeKey(blob);
    const { host, port } = this.opts;
    if (this.opts.pin) {
      const pin = parseHostKeyPin(this.opts.pin);
      if (pin && pinMatches(pin, blob)) return this.accept(blob);
      return {
        ok: false,
        reason: `host key mismatch: expected ${pin ? describePin(pin) : this.opts.pin} (ssh_host_key), server presented ${presented}`,
      };
    }
    if (this.accepted) {
      if (this.accepted.equals(blob)) return { ok: true };
      return {
        ok: false,
        reason: `host key mismatch: the key changed since this build first connected: was ${describeKey(this.accepted)}, now ${presented}`,
      };
    }
    const verdict = checkKnownHosts(this.entries, host, port, blob);
    const file = this.knownHostsPath ?? "known_hosts";
    switch (verdict.kind) {
      case "match":
        return this.accept(blob);
      case "revoked":
        return { ok: false, reason: `host key ${presented} is marked @revoked in ${file}:${verdict.entry.line}` };
      case "mismatch": {
        const known = verdict.known.map((e) => `${describeKey(e.key.blob)} (${file}:${e.line})`).join(", ");
        return {
          ok: false,
          reason: `host key mismatch: known_hosts has ${known}, server presented ${presented}; if the machine was rebuilt, remove the old entry (ssh-keygen -R) or set ssh_host_key`,
        };
      }
      case "unknown":
        break;
    }
    if (this.opts.trustOnFirstUse) {
      this.ui.say(`Trusting the host key of ${host}:${port} on first use (ssh_trust_on_first_use): ${presented}`);
      return this.accept(blob);
    }
    if (!this.opts.viaBastion && isLoopback(host)) {
      this.ui.say(`Accepting the host key of loopback address ${host}:${port} without verification: ${presented}`);
      return this.accept(blob);
    }
    return {
      ok: false,
      reason: `host key ${presented} is not known (${this.knownHostsPath ? `not in ${this.knownHostsPath}` : "no known_hosts file"}); set ssh_host_key = "${fingerprint(blob)}", add the key to ssh_known_hosts_file, or set ssh_trust_on_first_use = true`,
    };
  }

  private accept(blob: Buffer): HostKeyDecision {
    this.accepted = blob;
    return { ok: true };
  }
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}
