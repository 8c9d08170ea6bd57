// The ssh_* schema, its parse, durations, host key pins and known_hosts matching (real ssh-keygen output).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSshConfig, sshConfigFields } from "../../../core/communicator/ssh/index.ts";
import { checkKnownHosts, fingerprint, parseHostKeyPin, parseKnownHosts, pinMatches } from "../../../core/communicator/ssh/hostkey.ts";
import { isLoopback } from "../../../core/communicator/ssh/host-key-policy.ts";
import { ConfigSchemaSchema, type ConfigField } from "../../../core/config/schema.ts";
import * as v from "valibot";

describe("ssh config", () => {
  test("the schema is a valid ConfigSchema and lists Packer's keys with defaults", () => {
    expect(v.safeParse(ConfigSchemaSchema, { fields: sshConfigFields }).success).toBe(true);
    const byName = new Map<string, ConfigField>(sshConfigFields.map((f) => [f.name, f]));
    expect(byName.get("ssh_port")?.default).toBe(22);
    expect(byName.get("ssh_timeout")?.default).toBe("5m");
    expect(byName.get("ssh_file_transfer_method")?.default).toBe("sftp");
    for (const k of ["ssh_bastion_host", "ssh_clear_authorized_keys", "ssh_host_key", "ssh_known_hosts_file", "ssh_trust_on_first_use"]) {
      expect(byName.has(k)).toBe(true);
    }
  });

  test("defaults", () => {
    const { config, diagnostics } = parseSshConfig({ ssh_username: "u", ssh_host: "h" });
    expect(diagnostics).toEqual([]);
    expect(config).toMatchObject({
      host: "h",
      port: 22,
      timeoutMs: 300_000,
      handshakeAttempts: 10,
      keepAliveIntervalMs: 5000,
      readWriteTimeoutMs: 0,
      fileTransferMethod: "sftp",
      pty: false,
      trustOnFirstUse: false,
    });
  });

  test("legacy JSON weak types: string port and bool", () => {
    const { config } = parseSshConfig({ ssh_username: "u", ssh_port: "2222", ssh_pty: "true" });
    expect(config?.port).toBe(2222);
    expect(config?.pty).toBe(true);
  });

  test("errors name the key", () => {
    const { config, diagnostics } = parseSshConfig({
      ssh_timeout: "5 minutes",
      ssh_port: 70000,
      ssh_file_transfer_method: "ftp",
      ssh_host_key: "not-a-key",
      ssh_bastion_host: "b",
    });
    expect(config).toBeUndefined();
    const text = diagnostics.map((d) => d.summary).join("\n");
    expect(text).toContain("ssh_username must be specified");
    expect(text).toContain('ssh_timeout: "5 minutes" is not a duration');
    expect(text).toContain("ssh_port: 70000 is not a TCP port");
    expect(text).toContain('ssh_file_transfer_method: "ftp"');
    expect(text).toContain("ssh_host_key: expected");
    expect(text).toContain("ssh_bastion_username must be specified");
  });

  test("a wrong type is a diagnostic, not an exception", () => {
    // (A bool is no wrong type for a number: mapstructure's weak typing makes true 1.)
    const { diagnostics } = parseSshConfig({ ssh_username: "u", ssh_port: "twenty-two" });
    expect(diagnostics[0]?.summary).toContain("ssh_port");
  });

  test("loopback addresses", () => {
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("127.3.4.5")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("localhost")).toBe(true);
    expect(isLoopback("10.0.0.1")).toBe(false);
    expect(isLoopback("127.example.com")).toBe(false);
  });
});

describe("host keys", () => {
  const dir = mkdtempSync(join(tmpdir(), "imgb-hk-"));
  const keyFile = join(dir, "k");
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
  const line = readFileSync(`${keyFile}.pub`, "utf8").trim();
  const blob = Buffer.from(line.split(" ")[1]!, "base64");
  const otherFile = join(dir, "o");
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherFile]);
  const otherBlob = Buffer.from(readFileSync(`${otherFile}.pub`, "utf8").split(" ")[1]!, "base64");

  test("fingerprint equals ssh-keygen -l", () => {
    const expected = spawnSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${keyFile}.pub`], { encoding: "utf8" }).stdout.split(" ")[1];
    expect(fingerprint(blob)).toBe(expected!);
  });

  test("pins: key line and fingerprint", () => {
    const byKey = parseHostKeyPin(line)!;
    const byFp = parseHostKeyPin(fingerprint(blob))!;
    expect(pinMatches(byKey, blob)).toBe(true);
    expect(pinMatches(byFp, blob)).toBe(true);
    expect(pinMatches(byKey, otherBlob)).toBe(false);
    expect(pinMatches(byFp, otherBlob)).toBe(false);
    expect(parseHostKeyPin("ssh-rsa " + line.split(" ")[1])).toBeNull(); // type must match the blob
  });

  test("known_hosts: plain, [host]:port, hashed (ssh-keygen -H), wildcard, revoked, mismatch", () => {
    const kh = join(dir, "known_hosts");
    const pub = line.split(" ").slice(0, 2).join(" ");
    writeFileSync(kh, `plain.example ${pub}\n[10.1.2.3]:2222 ${pub}\nhashed.example ${pub}\n*.wild.example ${pub}\n`);
    spawnSync("ssh-keygen", ["-H", "-f", kh]);
    const text = readFileSync(kh, "utf8");
    expect(text).toContain("|1|");
    const entries = parseKnownHosts(text);
    expect(checkKnownHosts(entries, "hashed.example", 22, blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "10.1.2.3", 2222, blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "10.1.2.3", 22, blob).kind).toBe("unknown");
    expect(checkKnownHosts(entries, "a.wild.example", 22, blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "plain.example", 22, otherBlob).kind).toBe("mismatch");
    expect(checkKnownHosts(entries, "nowhere.example", 22, blob).kind).toBe("unknown");
    const revoked = parseKnownHosts(`@revoked * ${pub}\n`);
    expect(checkKnownHosts(revoked, "x", 22, blob).kind).toBe("revoked");
  });

  test("cleanup", () => rmSync(dir, { recursive: true, force: true }));
});
