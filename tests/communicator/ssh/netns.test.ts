// A machine on another network: sshd inside a network namespace of its own, reached over a veth
// pair with 10.x addresses private to that namespace. A non-loopback address gets no host-key
// leniency: unknown keys are refused unless pinned or trusted on first use.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectSsh, parseSshConfig } from "../../../core/communicator/ssh/index.ts";
import { startSshd, type Sshd } from "../../support/sshd.ts";
import { decode, never, recordingUi } from "./helpers.ts";

const isRoot = process.getuid?.() === 0;
const tag = randomBytes(3).toString("hex");
const ns = `imgb-ssh-${tag}`;
const hostIf = `imgbh${tag}`; // interface names: at most 15 characters
const nsIf = `imgbn${tag}`;
// A /30 in 10.0.0.0/8 picked at random, so parallel runs do not collide.
const a = 100 + (parseInt(tag.slice(0, 2), 16) % 100);
const b = parseInt(tag.slice(2, 4), 16);
const c4 = (parseInt(tag.slice(4, 6), 16) % 63) * 4;
const hostIp = `10.${a}.${b}.${c4 + 1}`;
const nsIp = `10.${a}.${b}.${c4 + 2}`;

let sshd: Sshd | undefined;
let scratch: string;
let knownHosts: string;

function ip(...args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

beforeAll(async () => {
  if (!isRoot) return;
  scratch = mkdtempSync(join(tmpdir(), "imgb-ssh-netns-"));
  knownHosts = join(scratch, "known_hosts");
  writeFileSync(knownHosts, "");
  ip("netns", "add", ns);
  ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
  ip("link", "set", nsIf, "netns", ns);
  ip("addr", "add", `${hostIp}/30`, "dev", hostIf);
  ip("link", "set", hostIf, "up");
  ip("-n", ns, "addr", "add", `${nsIp}/30`, "dev", nsIf);
  ip("-n", ns, "link", "set", nsIf, "up");
  ip("-n", ns, "link", "set", "lo", "up");
  sshd = await startSshd({ netns: ns, listenAddress: nsIp, port: 22 });
});

afterAll(async () => {
  if (!isRoot) return;
  await sshd?.stop();
  // Deleting the namespace deletes its end of the veth pair, and with it the host end.
  spawnSync("ip", ["netns", "del", ns]);
  spawnSync("ip", ["link", "del", hostIf]);
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!isRoot)("ssh across a network namespace (needs root for ip netns)", () => {
  const config = (extra: Record<string, string | boolean>) => {
    const { config, diagnostics } = parseSshConfig({
      ssh_host: nsIp,
      ssh_username: sshd!.user,
      ssh_private_key_file: sshd!.clientKeyPath,
      ssh_known_hosts_file: knownHosts,
      ssh_timeout: "5s",
      ...extra,
    });
    expect(diagnostics).toEqual([]);
    return config!;
  };

  test("an unknown host key on a non-loopback address is refused with the ways to allow it", async () => {
    const e = await connectSsh(config({}), recordingUi(), never()).then(
      () => new Error("connected"),
      (err: unknown) => err as Error,
    );
    expect(e.message).toBe(
      `ssh ${nsIp}:22: host key ssh-ed25519 ${sshd!.hostFingerprint} is not known (not in ${knownHosts}); set ssh_host_key = "${sshd!.hostFingerprint}", add the key to ssh_known_hosts_file, or set ssh_trust_on_first_use = true`,
    );
  });

  test("trust on first use: connects, said on the UI, the server sees our veth address", async () => {
    const ui = recordingUi();
    const comm = await connectSsh(config({ ssh_trust_on_first_use: true }), ui, never());
    try {
      expect(ui.text()).toContain(`Trusting the host key of ${nsIp}:22 on first use`);
      const out: Uint8Array[] = [];
      const r = await comm.start({ command: 'echo "$SSH_CONNECTION"', onStdout: (c) => out.push(c) }, never());
      expect(r).toEqual({ kind: "exited", exitStatus: 0 });
      const [clientIp, , serverIp, serverPort] = decode(out).trim().split(" ");
      expect(clientIp).toBe(hostIp);
      expect(serverIp).toBe(nsIp);
      expect(serverPort).toBe("22");
    } finally {
      await comm.close();
    }
  });

  test("pinned by fingerprint; files move both ways", async () => {
    const comm = await connectSsh(config({ ssh_host_key: sshd!.hostFingerprint }), recordingUi(), never());
    try {
      await comm.upload(`${sshd!.remoteDir}/netns.txt`, { kind: "bytes", data: new TextEncoder().encode("across") }, {}, never());
      const back = await comm.download(`${sshd!.remoteDir}/netns.txt`, { kind: "bytes" }, never());
      expect(Buffer.from(back!).toString()).toBe("across");
    } finally {
      await comm.close();
    }
  });
});
