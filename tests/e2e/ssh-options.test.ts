// SSH and run-identity options public templates use, through the compiled binary against a real
// sshd: ssh_wait_timeout, keep-alives and read/write timeout, both file transfer methods, the file
// provisioner's empty `sources`, and one PACKER_RUN_UUID per run.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { freePort, nullSshSource, startSshd, type Sshd } from "../support/sshd.ts";

// Each case runs whole builds against a real sshd; on a loaded machine that takes seconds.
setDefaultTimeout(60_000);

let sshd: Sshd;
let dir: string;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-sshopt-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sshSource = (extra: string) => "\n" + nullSshSource(sshd, "n", extra);

describe("SSH options", () => {
  // geerlingguy/packer-boxes and packer-plugin-qemu's example still say ssh_wait_timeout.
  test("ssh_wait_timeout is ssh_timeout's old name", async () => {
    const port = await freePort();
    writeFileSync(
      join(dir, "wait.pkr.hcl"),
      `source "null" "n" {\n  communicator = "ssh"\n  ssh_host = "127.0.0.1"\n  ssh_port = ${port}\n  ssh_username = "x"\n  ssh_password = "x"\n  ssh_wait_timeout = "1s"\n}\nbuild { sources = ["source.null.n"] }\n`,
    );
    const started = Date.now();
    const r = await runImgb(["build", "-color=false", "wait.pkr.hcl"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("timeout after 1s waiting for SSH");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  // Packer's default is scp; imgb's is sftp (docs/PACKER-DIFFERENCES.md). Both must work, and
  // keep-alive / read-write timeout settings from public templates are honoured, not refused.
  for (const method of ["scp", "sftp"]) {
    test(`file upload with ssh_file_transfer_method = "${method}", keep-alives and a read/write timeout set`, async () => {
      const sub = mkdtempSync(join(dir, `${method}-`));
      writeFileSync(join(sub, `attributes.${method}.json`), `{"via":"${method}"}`);
      writeFileSync(
        join(sub, "t.pkr.hcl"),
        sshSource(`  ssh_file_transfer_method = "${method}"\n  ssh_keep_alive_interval = "1s"\n  ssh_read_write_timeout = "30s"`) +
          `build {\n  sources = ["source.null.n"]\n  provisioner "file" {\n    sources     = fileset(path.root, "attributes.*.json")\n    destination = "${sshd.remoteDir}/"\n  }\n  provisioner "shell" { inline = ["cat ${sshd.remoteDir}/attributes.${method}.json"] }\n}\n`,
      );
      const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`{"via":"${method}"}`);
    });
  }

  test("an upload into a folder that does not exist fails with a reason, by scp and by sftp, and writes nothing", async () => {
    const sub = mkdtempSync(join(dir, "missing-"));
    writeFileSync(join(sub, "a.json"), "{}");
    for (const method of ["scp", "sftp"]) {
      writeFileSync(
        join(sub, "t.pkr.hcl"),
        sshSource(`  ssh_file_transfer_method = "${method}"`) +
          `build {\n  sources = ["source.null.n"]\n  provisioner "file" {\n    source      = "a.json"\n    destination = "${sshd.remoteDir}/missing-${method}/"\n  }\n}\n`,
      );
      const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain(`${sshd.remoteDir}/missing-${method}: no such folder`);
      // Packer's scp writes the file *as* "missing-scp"; nothing may appear.
      expect(Bun.spawnSync(["test", "-e", `${sshd.remoteDir}/missing-${method}`]).exitCode).toBe(1);
    }
  });

  // chef/bento: `sources = fileset(path.root, "attributes.*.json")` may match nothing.
  test("a file provisioner whose sources list is empty copies nothing and succeeds (Packer >= 1.7.10)", async () => {
    const sub = mkdtempSync(join(dir, "empty-"));
    writeFileSync(
      join(sub, "t.pkr.hcl"),
      sshSource("") +
        `build {\n  sources = ["source.null.n"]\n  provisioner "file" {\n    sources     = fileset(path.root, "attributes.*.json")\n    destination = "/tmp/"\n  }\n  provisioner "shell" { inline = ["echo after-file"] }\n}\n`,
    );
    const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("after-file");
    writeFileSync(join(sub, "t.pkr.hcl"), sshSource("") + `build {\n  sources = ["source.null.n"]\n  provisioner "file" { destination = "/tmp/" }\n}\n`);
    const none = await runImgb(["validate", "."], { cwd: sub });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("Source must be specified");
  });
});

describe("PACKER_RUN_UUID", () => {
  test("generated once per run: the manifest and every shell-local see the same id; a caller's value is kept", async () => {
    const sub = mkdtempSync(join(dir, "uuid-"));
    writeFileSync(
      join(sub, "t.json"),
      JSON.stringify({
        builders: [{ type: "null", name: "a", communicator: "none" }, { type: "null", name: "b", communicator: "none" }],
        provisioners: [{ type: "shell-local", inline: ["echo run=$PACKER_RUN_UUID"] }],
        "post-processors": [{ type: "manifest", output: "manifest.json" }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: sub });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const ids = [...r.stdout.matchAll(/run=(\S+)/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ids[1]).toBe(ids[0]);
    const manifest = JSON.parse(readFileSync(join(sub, "manifest.json"), "utf8"));
    expect(manifest.last_run_uuid).toBe(ids[0]);
    expect(manifest.builds.every((b: { packer_run_uuid: string }) => b.packer_run_uuid === ids[0])).toBe(true);

    const given = await runImgb(["build", "-color=false", "-force", "t.json"], { cwd: sub, env: { PACKER_RUN_UUID: "given-id" } });
    expect(given.stdout).toContain("run=given-id");
  });
});

describe("SOCKS proxy", () => {
  // ssh_proxy_host/port/username/password: a SOCKS5 proxy opens the connection (here OpenSSH's own
  // `ssh -D` dynamic forwarding on loopback, through the same test sshd).
  test("the connection goes through the proxy; a dead proxy is named in the error", async () => {
    const proxyPort = await freePort();
    const proxy = Bun.spawn(
      ["ssh", "-N", "-D", `127.0.0.1:${proxyPort}`, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-i", sshd.clientKeyPath, "-p", String(sshd.port), `${sshd.user}@127.0.0.1`],
      { stdout: "ignore", stderr: "pipe" },
    );
    try {
      for (let i = 0; i < 100; i++) {
        const up = await Bun.connect({ hostname: "127.0.0.1", port: proxyPort, socket: { data() {} } }).then((s) => (s.end(), true)).catch(() => false);
        if (up) break;
        await Bun.sleep(100);
      }
      const sub = mkdtempSync(join(dir, "socks-"));
      writeFileSync(
        join(sub, "t.pkr.hcl"),
        sshSource(`  ssh_proxy_host = "127.0.0.1"\n  ssh_proxy_port = ${proxyPort}`) + `build {\n  sources = ["source.null.n"]\n  provisioner "shell" { inline = ["echo through-the-proxy"] }\n}\n`,
      );
      const before = sshd.log().split("direct-tcpip").length;
      const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("through-the-proxy");
      // The proxy asked sshd for a direct-tcpip channel to sshd itself: the build's connection.
      expect(sshd.log().split("direct-tcpip").length).toBeGreaterThan(before);

      const deadPort = await freePort();
      writeFileSync(
        join(sub, "t.pkr.hcl"),
        sshSource(`  ssh_proxy_host = "127.0.0.1"\n  ssh_proxy_port = ${deadPort}\n  ssh_timeout = "1s"`) + `build { sources = ["source.null.n"] }\n`,
      );
      const dead = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(dead.exitCode).toBe(1);
      expect(dead.stdout).toContain(`SOCKS proxy 127.0.0.1:${deadPort}: connection refused`);
    } finally {
      proxy.kill();
      await proxy.exited;
    }
  });
});

describe("SSH tunnels", () => {
  test("ssh_local_tunnels reaches a port on the machine from here; ssh_remote_tunnels reaches a port here from the machine", async () => {
    const localPort = await freePort();
    const remotePort = await freePort();
    const servicePort = await freePort();
    const service = Bun.listen({
      hostname: "127.0.0.1",
      port: servicePort,
      socket: {
        open(s) {
          s.write("hello-from-this-side\n");
          s.end();
        },
        data() {},
      },
    });
    try {
      const sub = mkdtempSync(join(dir, "tunnels-"));
      writeFileSync(
        join(sub, "t.pkr.hcl"),
        sshSource(`  ssh_local_tunnels  = ["${localPort}:127.0.0.1:${sshd.port}"]\n  ssh_remote_tunnels = ["${remotePort}:127.0.0.1:${servicePort}"]`) +
          `build {
  sources = ["source.null.n"]
  # From here, through the local tunnel, to the machine's own sshd: its banner comes back.
  provisioner "shell-local" {
    inline = ["bash -c 'exec 3<>/dev/tcp/127.0.0.1/${localPort}; head -c 8 <&3; echo'"]
  }
  # On the machine, through the remote tunnel, to the service listening here.
  provisioner "shell" {
    inline = ["bash -c 'exec 3<>/dev/tcp/127.0.0.1/${remotePort}; cat <&3'"]
  }
}
`,
      );
      const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("SSH-2.0-");
      expect(r.stdout).toContain("hello-from-this-side");

      writeFileSync(join(sub, "t.pkr.hcl"), sshSource(`  ssh_local_tunnels = ["not-a-tunnel"]`) + `build { sources = ["source.null.n"] }\n`);
      const bad = await runImgb(["validate", "."], { cwd: sub });
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toContain('ssh_local_tunnels: "not-a-tunnel" is not [bind_address:]port:host:hostport');
    } finally {
      service.stop(true);
    }
  });
});

// kubernetes-sigs/image-builder (azure: ssh_keep_alive_interval, ssh_read_write_timeout) and
// canonical/packer-maas (ssh_read_write_timeout) set these.
describe("keep-alives and the read/write timeout", () => {
  test("ssh_keep_alive_interval sends keepalive@openssh.com requests while a command runs; a negative one sends none", async () => {
    const count = () => sshd.log().split("keepalive@openssh.com").length - 1;
    const sub = mkdtempSync(join(dir, "keepalive-"));
    const run = async (interval: string) => {
      writeFileSync(join(sub, "t.pkr.hcl"), sshSource(`  ssh_keep_alive_interval = "${interval}"`) + `build {\n  sources = ["source.null.n"]\n  provisioner "shell" { inline = ["sleep 2"] }\n}\n`);
      const before = count();
      const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      return count() - before;
    };
    expect(await run("400ms")).toBeGreaterThanOrEqual(3);
    expect(await run("-1s")).toBe(0);
  }, 30_000);

  test("ssh_read_write_timeout: a connection silent that long counts as dropped", async () => {
    const sub = mkdtempSync(join(dir, "rwtimeout-"));
    writeFileSync(
      join(sub, "t.pkr.hcl"),
      sshSource(`  ssh_keep_alive_interval = "-1s"\n  ssh_read_write_timeout = "1s"\n  ssh_timeout = "2s"`) +
        `build {\n  sources = ["source.null.n"]\n  provisioner "shell" { inline = ["sleep 4", "echo not-reached"] }\n}\n`,
    );
    const started = Date.now();
    const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
    expect(r.exitCode).toBe(1);
    // Packer's words for a dropped session, well before `sleep 4` ends.
    expect(r.stdout).toContain("Script disconnected unexpectedly");
    expect(r.stdout).not.toContain("not-reached");
    expect(Date.now() - started).toBeLessThan(3900);
  });
});

describe("passphrase-protected private keys", () => {
  test("no agent and no terminal: a clear error; with the key in ssh-agent: the agent is used; on a terminal: the passphrase is asked", async () => {
    const sub = mkdtempSync(join(dir, "passphrase-"));
    const key = join(sub, "id_locked");
    expect(Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "open sesame", "-C", "imgb-locked", "-f", key]).exitCode).toBe(0);
    const authorized = join(sshd.clientKeyPath, "..", "authorized_keys");
    writeFileSync(authorized, `${readFileSync(authorized, "utf8")}${readFileSync(`${key}.pub`, "utf8")}`);
    const source = sshSource("").replace(`ssh_private_key_file = "${sshd.clientKeyPath}"`, `ssh_private_key_file = "${key}"`);
    writeFileSync(join(sub, "t.pkr.hcl"), source + `build {\n  sources = ["source.null.n"]\n  provisioner "shell" { inline = ["echo unlocked-as-$(id -un)"] }\n}\n`);
    const noAgent = { SSH_AUTH_SOCK: "" };

    const plain = await runImgb(["build", "-color=false", "."], { cwd: sub, env: noAgent });
    expect(plain.exitCode).toBe(1);
    expect(plain.stdout).toContain(`ssh_private_key_file ${key} is protected by a passphrase: load it into an SSH agent (ssh-add ${key})`);

    // ssh-agent on a socket of our own; ssh-add reads the passphrase through SSH_ASKPASS.
    const sock = join(sub, "agent.sock");
    const agent = Bun.spawn(["ssh-agent", "-D", "-a", sock], { stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < 50 && !Bun.spawnSync(["test", "-S", sock]).success; i++) await Bun.sleep(100);
      const askpass = join(sub, "askpass.sh");
      writeFileSync(askpass, "#!/bin/sh\necho 'open sesame'\n", { mode: 0o755 });
      const add = Bun.spawnSync(["ssh-add", key], { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" } });
      expect(add.exitCode, add.stderr.toString()).toBe(0);
      const viaAgent = await runImgb(["build", "-color=false", "."], { cwd: sub, env: { SSH_AUTH_SOCK: sock } });
      expect(viaAgent.exitCode, viaAgent.stdout + viaAgent.stderr).toBe(0);
      expect(viaAgent.stdout).toContain("authenticating with the SSH agent's keys");
      expect(viaAgent.stdout).toContain(`unlocked-as-${sshd.user}`);
    } finally {
      agent.kill();
      await agent.exited;
    }

    // On a terminal (script(1) gives imgb a pty): asked once, not echoed.
    const { IMGB } = await import("../support/binary.ts");
    const typed = Bun.spawn(["script", "-qec", `${IMGB} build -color=false .`, "/dev/null"], {
      cwd: sub,
      env: { ...process.env, SSH_AUTH_SOCK: "" },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    // Type only once the prompt is up (raw mode, no echo): typed earlier, the pty would echo it.
    let text = "";
    const reader = typed.stdout.getReader();
    const decoder = new TextDecoder();
    const readUntil = async (want: string) => {
      while (!text.includes(want)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value);
      }
    };
    await readUntil("Enter passphrase for");
    typed.stdin.write("open sesame\r");
    await typed.stdin.flush();
    await readUntil("\u0000never");
    const code = await typed.exited;
    expect(code, text).toBe(0);
    expect(text).toContain(`Enter passphrase for ${key}: `);
    expect(text).toContain(`unlocked-as-${sshd.user}`);
    expect(text).not.toContain("open sesame");
  }, 60_000);
});

describe("SSH certificates", () => {
  // A test CA made with ssh-keygen; the server trusts the CA only (TrustedUserCAKeys), not the key.
  test("ssh_certificate_file: a key signed by the CA logs in; the same key without its certificate is refused; ssh_bastion_certificate_file likewise", async () => {
    const sub = mkdtempSync(join(dir, "cert-"));
    const gen = (...args: string[]) => {
      const r = Bun.spawnSync(["ssh-keygen", "-q", ...args]);
      expect(r.exitCode, r.stderr.toString()).toBe(0);
    };
    gen("-t", "ed25519", "-N", "", "-C", "imgb-test-ca", "-f", join(sub, "ca"));
    gen("-t", "ed25519", "-N", "", "-C", "imgb-cert-user", "-f", join(sub, "user"));
    const { chmodSync } = await import("node:fs");
    chmodSync(sub, 0o755);
    const certSshd = await startSshd({ config: [`TrustedUserCAKeys ${join(sub, "ca.pub")}`] });
    try {
      gen("-s", join(sub, "ca"), "-I", "imgb-test", "-n", certSshd.user, "-V", "-5m:+1h", join(sub, "user.pub"));
      const source = (cert: string) => `
source "null" "n" {
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = ${certSshd.port}
  ssh_username         = "${certSshd.user}"
  ssh_private_key_file = "${join(sub, "user")}"
  ssh_host_key         = "${certSshd.hostPublicKey}"
  ssh_handshake_attempts = 1
${cert}
}
build {
  sources = ["source.null.n"]
  provisioner "shell" { inline = ["echo certified-as-$(id -un)"] }
}
`;
      writeFileSync(join(sub, "t.pkr.hcl"), source(`  ssh_certificate_file = "${join(sub, "user-cert.pub")}"`));
      const r = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`certified-as-${certSshd.user}`);
      expect(certSshd.log()).toContain("ED25519-CERT");

      writeFileSync(join(sub, "t.pkr.hcl"), source(""));
      const without = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(without.exitCode).toBe(1);
      expect(without.stdout).toMatch(/authentication failed/i);

      // ssh_bastion_certificate_file: the CA-trusting server as the bastion to the other test sshd.
      writeFileSync(
        join(sub, "t.pkr.hcl"),
        sshSource(
          `  ssh_bastion_host = "127.0.0.1"\n  ssh_bastion_port = ${certSshd.port}\n  ssh_bastion_username = "${certSshd.user}"\n  ssh_bastion_private_key_file = "${join(sub, "user")}"\n  ssh_bastion_certificate_file = "${join(sub, "user-cert.pub")}"\n  ssh_bastion_host_key = "${certSshd.hostPublicKey}"`,
        ) + `build {\n  sources = ["source.null.n"]\n  provisioner "shell" { inline = ["echo via-certified-bastion"] }\n}\n`,
      );
      const viaBastion = await runImgb(["build", "-color=false", "."], { cwd: sub });
      expect(viaBastion.exitCode, viaBastion.stdout + viaBastion.stderr).toBe(0);
      expect(viaBastion.stdout).toContain("via-certified-bastion");
    } finally {
      await certSshd.stop();
    }
  });
});
