// Shared by the SSH communicator tests: a Ui that records what was said, and a config for a test sshd.
import { expect } from "bun:test";
import { parseSshConfig, type SshConfig } from "../../../core/communicator/ssh/index.ts";
import type { ProgressTracker, Ui } from "../../../core/ui/types.ts";
import type { JsonObject } from "../../../core/values/json.ts";
import type { Sshd } from "../../support/sshd.ts";

export interface RecordingUi extends Ui {
  lines: string[];
  text(): string;
}

export function recordingUi(): RecordingUi {
  const lines: string[] = [];
  const tracker: ProgressTracker = { update: () => {}, finish: () => {} };
  return {
    lines,
    text: () => lines.join("\n"),
    say: (m) => void lines.push(`say: ${m}`),
    message: (m) => void lines.push(`message: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
    ask: async () => {
      throw new Error("no tty in tests");
    },
    progress: () => tracker,
    machine: () => {},
  };
}

/** Key login to `sshd`, host key pinned, short timeouts; `extra` overrides (template keys). */
export function sshConfig(sshd: Sshd, extra: JsonObject = {}): SshConfig {
  const { config, diagnostics } = parseSshConfig({
    ssh_host: sshd.host,
    ssh_port: sshd.port,
    ssh_username: sshd.user,
    ssh_private_key_file: sshd.clientKeyPath,
    ssh_host_key: sshd.hostPublicKey,
    ssh_timeout: "10s",
    ...extra,
  });
  expect(diagnostics).toEqual([]);
  return config!;
}

export const never = (): AbortSignal => new AbortController().signal;

export function decode(chunks: Uint8Array[]): string {
  return Buffer.concat(chunks).toString("utf8");
}
