// Connecting to a real OpenSSH server: authentication (key, password, agent), host key checks
// (pin, known_hosts, trust on first use, loopback), ssh_timeout with a server that starts late, a
// bastion, and the connect step with ssh_clear_authorized_keys.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildState } from "../../../core/builders/types.ts";
import {
  connectSsh,
  generateTemporaryKeyPair,
  parseSshConfig,
  stepConnectSsh,
  type SshConfig,
} from "../../../core/communicator/ssh/index.ts";
import { CommunicatorError, type Communicator } from "../../../core/communicator/types.ts";
import type { JsonValue } from "../../../core/values/json.ts";
import { freePort, startSshd, stopAllSshd, type Sshd } from "../../support/sshd.ts";
import { decode, never, recordingUi, sshConfig } from "./helpers.ts";

let sshd: Sshd;
let scratch: string;
/** An empty known_hosts file, so the machine's own ~/.ssh/known_hosts cannot change a result. */
let emptyKnownHosts: string;

beforeAll(async () => {
  sshd = await startSshd();
  scratch = mkdtempSync(join(tmpdir(), "imgb-ssh-connect-"));
  emptyKnownHosts = join(scratch, "known_hosts_empty");
  writeFileSync(emptyKnownHosts, "");
});
afterAll(async () => {
  await stopAllSshd();
  rmSync(scratch, { recursive: true, force: true });
});

/** Template keys → SshConfig, without the helper's pinned host key and key file. */
function rawConfig(raw: Record<string, JsonValue>): SshConfig {
  const { config, diagnostics } = parseSshConfig({ ssh_timeout: "10s", ...raw });
  expect(diagnostics).toEqual([]);
  return config!;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => new Error("expected a failure"),
    (err: unknown) => err as Error,
  );
  expect(e).toBeInstanceOf(CommunicatorError);
  return e;
}

async function echo(comm: Communicator, text: string): Promise<string> {
  const out: Uint8Array[] = [];
  await comm.start({ command: `echo ${text}`, onStdout: (c) => out.push(c) }, never());
  return decode(out).trim();
}

describe("authentication", () => {
  test("password", async () => {
    const c = await connectSsh(
      rawConfig({ ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.user, ssh_password: sshd.password, ssh_host_key: sshd.hostFingerprint }),
      recordingUi(),
      never(),
    );
    expect(await echo(c, "pw")).toBe("pw");
    await c.close();
  });

  test("bad password: a clear error naming user, host and methods", async () => {
    const t0 = Date.now();
    const e = await failure(
      connectSsh(
        rawConfig({
          ssh_host: sshd.host,
          ssh_port: sshd.port,
          ssh_username: sshd.user,
          ssh_password: "wrong",
          ssh_host_key: sshd.hostFingerprint,
          ssh_handshake_attempts: 1,
        }),
        recordingUi(),
        never(),
      ),
    );
    expect(e.message).toBe(`ssh 127.0.0.1:${sshd.port}: authentication failed for user "${sshd.user}" (methods tried: password)`);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  test("auth failures are retried ssh_handshake_attempts times", async () => {
    const before = (sshd.log().match(/Failed password/g) ?? []).length;
    await failure(
      connectSsh(
        rawConfig({
          ssh_host: sshd.host,
          ssh_port: sshd.port,
          ssh_username: sshd.user,
          ssh_password: "wrong",
          ssh_host_key: sshd.hostFingerprint,
          ssh_handshake_attempts: 2,
        }),
        recordingUi(),
        never(),
      ),
    );
    expect((sshd.log().match(/Failed password/g) ?? []).length - before).toBe(2);
  });

  test("a key the server does not accept", async () => {
    const kp = await generateTemporaryKeyPair("imgb-unknown");
    const keyFile = join(scratch, "unknown_key");
    writeFileSync(keyFile, kp.privateKey, { mode: 0o600 });
    const e = await failure(
      connectSsh(sshConfig(sshd, { ssh_private_key_file: keyFile, ssh_handshake_attempts: 1 }), recordingUi(), never()),
    );
    expect(e.message).toBe(`ssh 127.0.0.1:${sshd.port}: authentication failed for user "${sshd.user}" (methods tried: publickey)`);
  });

  test("no method configured, unreadable key file", async () => {
    const e1 = await failure(connectSsh(rawConfig({ ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: "x" }), recordingUi(), never()));
    expect(e1.message).toContain("no authentication method configured");
    const e2 = await failure(connectSsh(sshConfig(sshd, { ssh_private_key_file: "/nonexistent/key" }), recordingUi(), never()));
    expect(e2.message).toBe(`ssh 127.0.0.1:${sshd.port}: cannot read ssh_private_key_file /nonexistent/key: ENOENT`);
  });

  test("ssh agent (ssh_agent_auth)", async () => {
    const sock = join(scratch, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    const oldSock = process.env.SSH_AUTH_SOCK;
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await Bun.sleep(20);
      const add = spawnSync("ssh-add", [sshd.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      expect(add.status).toBe(0);
      process.env.SSH_AUTH_SOCK = sock;
      const c = await connectSsh(
        rawConfig({ ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.user, ssh_agent_auth: true, ssh_host_key: sshd.hostPublicKey }),
        recordingUi(),
        never(),
      );
      // Agent forwarding is on by default: the remote side sees an agent socket.
      const out: Uint8Array[] = [];
      await c.start({ command: 'test -S "$SSH_AUTH_SOCK" && echo forwarded', onStdout: (b) => out.push(b) }, never());
      expect(decode(out).trim()).toBe("forwarded");
      await c.close();
    } finally {
      if (oldSock === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = oldSock;
      agent.kill("SIGTERM");
      await new Promise((r) => (agent.exitCode !== null ? r(null) : agent.once("exit", r)));
    }
  });
});

describe("algorithms", () => {
  test("ssh_ciphers and ssh_key_exchange_algorithms are what the connection negotiates", async () => {
    const c = await connectSsh(
      sshConfig(sshd, { ssh_ciphers: ["aes256-ctr"], ssh_key_exchange_algorithms: ["ecdh-sha2-nistp256"] }),
      recordingUi(),
      never(),
    );
    const out: Uint8Array[] = [];
    await c.start({ command: "echo ok", onStdout: (b) => out.push(b) }, never());
    await c.close();
    expect(decode(out)).toBe("ok\n");
    expect(sshd.log()).toContain("kex: algorithm: ecdh-sha2-nistp256");
    expect(sshd.log()).toContain("cipher: aes256-ctr");
  });

  test("an unknown cipher is a clear error", async () => {
    const e = await failure(connectSsh(sshConfig(sshd, { ssh_ciphers: ["rot13"] }), recordingUi(), never()));
    expect(e.message).toStartWith(`ssh 127.0.0.1:${sshd.port}: `);
    expect(e.message).toBe(`ssh 127.0.0.1:${sshd.port}: Unsupported algorithm: rot13 (check ssh_ciphers and ssh_key_exchange_algorithms)`);
  });
});

describe("host keys", () => {
  test("a wrong pinned key is refused at once, naming both fingerprints", async () => {
    const other = (await generateTemporaryKeyPair("other")).publicKey.trim();
    const t0 = Date.now();
    const e = await failure(connectSsh(sshConfig(sshd, { ssh_host_key: other }), recordingUi(), never()));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(e.message).toStartWith(`ssh 127.0.0.1:${sshd.port}: host key mismatch: expected ssh-ed25519 SHA256:`);
    expect(e.message).toContain(`server presented ssh-ed25519 ${sshd.hostFingerprint}`);
  });

  test("known_hosts: a recorded key is accepted silently; a changed one is refused with file:line", async () => {
    const good = join(scratch, "known_hosts_good");
    writeFileSync(good, `# comment\n[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const ui = recordingUi();
    const c = await connectSsh(sshConfig(sshd, { ssh_host_key: "", ssh_known_hosts_file: good }), ui, never());
    await c.close();
    expect(ui.text()).not.toContain("without verification");

    const bad = join(scratch, "known_hosts_bad");
    const other = (await generateTemporaryKeyPair("other")).publicKey.trim().split(" ").slice(0, 2).join(" ");
    writeFileSync(bad, `[127.0.0.1]:${sshd.port} ${other}\n`);
    const e = await failure(connectSsh(sshConfig(sshd, { ssh_host_key: "", ssh_known_hosts_file: bad }), recordingUi(), never()));
    expect(e.message).toContain("host key mismatch: known_hosts has ssh-ed25519 SHA256:");
    expect(e.message).toContain(`(${bad}:1)`);
    expect(e.message).toContain(`server presented ssh-ed25519 ${sshd.hostFingerprint}`);
  });

  test("a missing ssh_known_hosts_file is an error", async () => {
    const e = await failure(
      connectSsh(sshConfig(sshd, { ssh_host_key: "", ssh_known_hosts_file: join(scratch, "nope") }), recordingUi(), never()),
    );
    expect(e.message).toContain("does not exist");
  });

  test("loopback without a pin: accepted and said on the UI", async () => {
    const ui = recordingUi();
    const c = await connectSsh(sshConfig(sshd, { ssh_host_key: "", ssh_known_hosts_file: emptyKnownHosts }), ui, never());
    await c.close();
    expect(ui.text()).toContain(`Accepting the host key of loopback address 127.0.0.1:${sshd.port} without verification: ssh-ed25519 ${sshd.hostFingerprint}`);
  });

  test("trust on first use is said on the UI; a key changed on reconnect is refused", async () => {
    const own = await startSshd();
    const ui = recordingUi();
    const c = await connectSsh(
      rawConfig({
        ssh_host: own.host,
        ssh_port: own.port,
        ssh_username: own.user,
        ssh_password: own.password,
        ssh_known_hosts_file: emptyKnownHosts,
        ssh_trust_on_first_use: true,
        ssh_timeout: "3s",
      }),
      ui,
      never(),
    );
    try {
      expect(ui.text()).toContain(`Trusting the host key of 127.0.0.1:${own.port} on first use (ssh_trust_on_first_use): ssh-ed25519 ${own.hostFingerprint}`);
      // The machine "is rebuilt" on the same address with a new host key.
      const port = own.port;
      await own.stop();
      const rebuilt = await startSshd({ port });
      // The first call may still meet the dropped connection ("disconnected"); the reconnect is refused.
      let r = await c.start({ command: "true" }, never()).catch((e: unknown) => e);
      if ((r as { kind?: string }).kind === "disconnected") r = await c.start({ command: "true" }, never()).catch((e: unknown) => e);
      expect(r).toBeInstanceOf(CommunicatorError);
      expect((r as Error).message).toContain("the key changed since this build first connected");
      expect((r as Error).message).toContain(own.hostFingerprint);
      expect((r as Error).message).toContain(rebuilt.hostFingerprint);
    } finally {
      await c.close();
      await stopAllSshd();
      sshd = await startSshd();
    }
  });
});

describe("waiting for SSH", () => {
  test("ssh_timeout: keeps trying until a late server starts (2 s after connecting begins)", async () => {
    const port = await freePort();
    const ui = recordingUi();
    const t0 = Date.now();
    let late: Sshd | undefined;
    const starting = (async () => {
      await Bun.sleep(2000);
      late = await startSshd({ port });
    })();
    const connecting = connectSsh(
      rawConfig({
        ssh_host: "127.0.0.1",
        ssh_port: port,
        ssh_username: sshd.user,
        ssh_password: sshd.password,
        ssh_known_hosts_file: emptyKnownHosts,
        ssh_timeout: "20s",
      }),
      ui,
      never(),
    );
    const c = await connecting;
    await starting;
    try {
      expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
      expect(ui.lines[0]).toBe("say: Waiting for SSH to become available...");
      expect(ui.text()).toContain(`ssh 127.0.0.1:${port}: connection refused; retrying for up to`);
      expect(ui.text()).toContain("say: Connected to SSH!");
      expect(await echo(c, "late")).toBe("late");
    } finally {
      await c.close();
      await late?.stop();
    }
  });

  test("ssh_timeout expires with the last reason", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const e = await failure(
      connectSsh(
        rawConfig({ ssh_host: "127.0.0.1", ssh_port: port, ssh_username: "u", ssh_password: "p", ssh_timeout: "1500ms" }),
        recordingUi(),
        never(),
      ),
    );
    expect(e.message).toBe(`ssh 127.0.0.1:${port}: timeout after 2s waiting for SSH: connection refused`);
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  test("cancelling while waiting", async () => {
    const port = await freePort();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("interrupted")), 500);
    await expect(
      connectSsh(rawConfig({ ssh_host: "127.0.0.1", ssh_port: port, ssh_username: "u", ssh_password: "p" }), recordingUi(), ac.signal),
    ).rejects.toThrow("interrupted");
  });
});

describe("bastion", () => {
  test("connects through a second sshd", async () => {
    const target = await startSshd();
    const bastion = await startSshd();
    try {
      const c = await connectSsh(
        sshConfig(target, {
          ssh_bastion_host: bastion.host,
          ssh_bastion_port: bastion.port,
          ssh_bastion_username: bastion.user,
          ssh_bastion_private_key_file: bastion.clientKeyPath,
          ssh_bastion_host_key: bastion.hostFingerprint,
        }),
        recordingUi(),
        never(),
      );
      expect(await echo(c, "via-bastion")).toBe("via-bastion");
      await c.upload(`${target.remoteDir}/through`, { kind: "bytes", data: new TextEncoder().encode("b") }, {}, never());
      expect(readFileSync(`${target.remoteDir}/through`, "utf8")).toBe("b");
      await c.close();
      // The bastion opened a direct-tcpip channel to the target's port.
      expect(bastion.log()).toMatch(new RegExp(`direct-tcpip.*${target.port}|port ${target.port}`));
    } finally {
      await target.stop();
      await bastion.stop();
    }
  });

  test("a target the bastion cannot reach; a target key that is not pinned", async () => {
    const bastion = await startSshd();
    try {
      const port = await freePort();
      const base = {
        ssh_host: "127.0.0.1",
        ssh_port: port,
        ssh_username: sshd.user,
        ssh_private_key_file: sshd.clientKeyPath,
        ssh_bastion_host: bastion.host,
        ssh_bastion_port: bastion.port,
        ssh_bastion_username: bastion.user,
        ssh_bastion_private_key_file: bastion.clientKeyPath,
        ssh_bastion_host_key: bastion.hostFingerprint,
        ssh_known_hosts_file: emptyKnownHosts,
      };
      const e1 = await failure(connectSsh(rawConfig({ ...base, ssh_timeout: "1s" }), recordingUi(), never()));
      expect(e1.message).toContain(`ssh 127.0.0.1:${port} (via bastion 127.0.0.1:${bastion.port}): timeout after 1s waiting for SSH: the bastion could not connect`);
      // Through a bastion, 127.0.0.1 is the bastion's loopback: not trusted without a pin.
      const e2 = await failure(connectSsh(rawConfig({ ...base, ssh_port: sshd.port }), recordingUi(), never()));
      expect(e2.message).toContain("is not known");
      expect(e2.message).toContain("ssh_trust_on_first_use");
    } finally {
      await bastion.stop();
    }
  });
});

describe("connect step", () => {
  test("publishes build values; ssh_clear_authorized_keys removes only the temporary key", async () => {
    const kp = await generateTemporaryKeyPair("imgb_test_temporary");
    const sshDir = join(sshd.home, ".ssh");
    const ak = join(sshDir, "authorized_keys");
    const uid = statSync(sshd.home).uid;
    const gid = statSync(sshd.home).gid;
    const before = existsSync(ak) ? readFileSync(ak, "utf8") : null;
    mkdirSync(sshDir, { recursive: true, mode: 0o700 });
    chownSync(sshDir, uid, gid);
    const keep = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeepThisLineKeepThisLineKeepThisLine0000 keep-me";
    writeFileSync(ak, `${keep}\n${kp.publicKey}`, { mode: 0o600 });
    chownSync(ak, uid, gid);
    try {
      const config = sshConfig(sshd, { ssh_private_key_file: "", ssh_clear_authorized_keys: true });
      config.privateKey = kp.privateKey;
      delete config.privateKeyFile;
      const generated: Record<string, JsonValue> = {};
      const ui = recordingUi();
      const state: BuildState = {
        ui,
        signal: never(),
        build: { buildName: "t", sourceName: "t", builderType: "null", generated, placeholders: false },
        templateDir: scratch,
        setGenerated: (k: string, v: JsonValue) => void (generated[k] = v),
        provision: async () => {},
        scratch: {},
      };
      const step = stepConnectSsh({ config: () => config, keyPair: () => kp });
      await step.run(state);
      expect(generated).toMatchObject({ Host: "127.0.0.1", Port: sshd.port, User: sshd.user, ConnType: "ssh", SSHPublicKey: kp.publicKey });
      expect(String(generated.SSHPrivateKey)).toContain("OPENSSH PRIVATE KEY");
      expect(await echo(state.communicator!, "step")).toBe("step");
      await step.cleanup!(state);
      expect(ui.text()).toContain("Cleaning up authorized_keys...");
      const after = readFileSync(ak, "utf8");
      expect(after).toBe(`${keep}\n`);
      expect(statSync(ak).uid).toBe(uid);
      expect(statSync(ak).mode & 0o777).toBe(0o600);
    } finally {
      if (before === null) rmSync(ak, { force: true });
      else writeFileSync(ak, before);
    }
  });
});
