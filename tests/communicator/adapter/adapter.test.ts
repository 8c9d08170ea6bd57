// The communicator adapter with OpenSSH's own clients: exec with streamed stdin and exit status,
// SFTP put/get/stat through the local communicator, refusal of other keys, and close ending every
// connection (a ControlMaster-style persistent client included).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAdapter, type Adapter } from "../../../core/communicator/adapter/server.ts";
import { localCommunicator } from "../../../core/communicator/local.ts";

let dir: string;
let adapter: Adapter;
let sshArgs: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "imgb-adapter-test-"));
  adapter = await startAdapter(localCommunicator(), { port: 0 }, new AbortController().signal);
  writeFileSync(join(dir, "key"), adapter.clientPrivateKey, { mode: 0o600 });
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${adapter.port} ${adapter.hostPublicKey}\n`);
  sshArgs = ["-i", join(dir, "key"), "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`, "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-p", String(adapter.port)];
});

afterAll(async () => {
  await adapter.close();
  rmSync(dir, { recursive: true, force: true });
});

// Asynchronous: the adapter serves from this same process.
async function run(argv: string[], stdin?: string) {
  const p = Bun.spawn(argv, { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
}

describe("communicator adapter", () => {
  test("exec forwards stdin, stdout, stderr and the exit status", async () => {
    const r = await run(["ssh", ...sshArgs, "tester@127.0.0.1", "cat; echo err >&2; exit 7"], "from stdin\n");
    expect(r.out).toBe("from stdin\n");
    expect(r.err).toContain("err");
    expect(r.code).toBe(7);
  });

  test("a pty request (ansible's -tt with become) is accepted", async () => {
    const r = await run(["ssh", "-tt", ...sshArgs, "tester@127.0.0.1", "echo tty-ok"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("tty-ok");
  });

  test("sftp put, stat and get go through the communicator", async () => {
    const src = join(dir, "src.txt");
    writeFileSync(src, "payload ".repeat(50_000));
    chmodSync(src, 0o640);
    const dest = join(dir, "dest.txt");
    const back = join(dir, "back.txt");
    const r = await run(["sftp", "-b", "-", ...sshArgs.map((a) => (a === "-p" ? "-P" : a)), "tester@127.0.0.1"], `put ${src} ${dest}\nget ${dest} ${back}\n`);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(dest, "utf8")).toBe(readFileSync(src, "utf8"));
    expect(readFileSync(back, "utf8")).toBe(readFileSync(src, "utf8"));
    expect(statSync(dest).mode & 0o777).toBe(0o640);
  });

  test("another key is refused", async () => {
    const other = join(dir, "other");
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other]);
    const args = sshArgs.slice();
    args[1] = other;
    const r = await run(["ssh", ...args, "tester@127.0.0.1", "true"]);
    expect(r.code).toBe(255);
    expect(r.err).toContain("Permission denied");
  });

  test("close ends open connections and running commands", async () => {
    const a = await startAdapter(localCommunicator(), { port: 0 }, new AbortController().signal);
    writeFileSync(join(dir, "key2"), a.clientPrivateKey, { mode: 0o600 });
    const marker = join(dir, "still-running");
    const p = Bun.spawn(["ssh", "-i", join(dir, "key2"), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-p", String(a.port), "t@127.0.0.1", `sleep 30; touch ${marker}`], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(700);
    const t0 = performance.now();
    await a.close();
    await p.exited;
    expect(performance.now() - t0).toBeLessThan(5000);
    await Bun.sleep(200);
    expect(Bun.spawnSync(["pgrep", "-f", `touch ${marker}`]).exitCode).toBe(1);
  });
});
