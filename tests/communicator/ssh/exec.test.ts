// Commands over a real OpenSSH server: exit codes, live output, stdin, pty, keep-alives, a server
// killed mid-command (disconnected, then reconnect), ssh_read_write_timeout, cancellation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectSsh, type SshCommunicator } from "../../../core/communicator/ssh/index.ts";
import { startSshd, stopAllSshd, type Sshd } from "../../support/sshd.ts";
import { decode, never, recordingUi, sshConfig } from "./helpers.ts";

let sshd: Sshd;
let comm: SshCommunicator;

beforeAll(async () => {
  sshd = await startSshd();
  comm = await connectSsh(sshConfig(sshd), recordingUi(), never());
});
afterAll(async () => {
  await comm?.close();
  await stopAllSshd();
});

describe("ssh exec", () => {
  test("exit codes and separate stdout/stderr", async () => {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const r = await comm.start(
      { command: "echo out; echo err >&2; exit 7", onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) },
      never(),
    );
    expect(r).toEqual({ kind: "exited", exitStatus: 7 });
    expect(decode(out)).toBe("out\n");
    expect(decode(err)).toBe("err\n");
    expect(await comm.start({ command: "true" }, never())).toEqual({ kind: "exited", exitStatus: 0 });
  });

  test("runs as the login user in a shell", async () => {
    const out: Uint8Array[] = [];
    await comm.start({ command: 'id -un; echo "$HOME"', onStdout: (c) => out.push(c) }, never());
    expect(decode(out)).toBe(`${sshd.user}\n${sshd.home}\n`);
  });

  test("output streams live, before the command ends", async () => {
    const t0 = Date.now();
    let firstAt = 0;
    const r = await comm.start(
      { command: "echo first; sleep 1; echo second", onStdout: () => (firstAt ||= Date.now() - t0) },
      never(),
    );
    const total = Date.now() - t0;
    expect(r.kind).toBe("exited");
    expect(total).toBeGreaterThanOrEqual(1000);
    expect(firstAt).toBeLessThan(total - 700);
  });

  test("stdin is written then closed", async () => {
    const out: Uint8Array[] = [];
    const r = await comm.start({ command: "wc -c; cat", stdin: new TextEncoder().encode("12345"), onStdout: (c) => out.push(c) }, never());
    expect(r).toEqual({ kind: "exited", exitStatus: 0 });
    expect(decode(out).trim()).toBe("5");
  });

  test("a signalled command reports 128+N", async () => {
    expect(await comm.start({ command: "kill -TERM $$" }, never())).toEqual({ kind: "exited", exitStatus: 143 });
  });

  test("several commands at once on one connection", async () => {
    const rs = await Promise.all([1, 2, 3, 4, 5].map((n) => comm.start({ command: `sleep 0.2; exit ${n}` }, never())));
    expect(rs.map((r) => (r.kind === "exited" ? r.exitStatus : -1))).toEqual([1, 2, 3, 4, 5]);
  });

  test("cancellation stops the remote command", async () => {
    const ac = new AbortController();
    const marker = `${sshd.remoteDir}/cancelled-${Date.now()}`;
    setTimeout(() => ac.abort(new Error("cancelled by test")), 300);
    const t0 = Date.now();
    await expect(comm.start({ command: `sleep 3; touch ${marker}` }, ac.signal)).rejects.toThrow("cancelled by test");
    expect(Date.now() - t0).toBeLessThan(2000);
    await Bun.sleep(3200);
    const r = await comm.start({ command: `test -e ${marker}` }, never());
    expect(r).toEqual({ kind: "exited", exitStatus: 1 });
  });

  test("cancellation sends TERM first (a trap cleans up, sudo relays it), then KILL to the process group", async () => {
    const marker = `${sshd.remoteDir}/trapped-${Date.now()}`;
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("cancelled by test")), 300);
    await expect(comm.start({ command: `trap 'touch ${marker}; exit 1' TERM; sleep 979 & wait` }, ac.signal)).rejects.toThrow("cancelled by test");
    expect(await comm.start({ command: `test -e ${marker}` }, never())).toEqual({ kind: "exited", exitStatus: 0 });
    // A command that ignores TERM (and its children, which inherit that) is killed 2 s later.
    const deaf = new AbortController();
    setTimeout(() => deaf.abort(new Error("cancelled by test")), 300);
    const t0 = Date.now();
    await expect(comm.start({ command: "trap '' TERM; sleep 978 & sleep 977" }, deaf.signal)).rejects.toThrow("cancelled by test");
    expect(Date.now() - t0).toBeLessThan(4000);
    await Bun.sleep(300);
    expect(await comm.start({ command: "pgrep -x -f 'sleep 97[78]'" }, never())).toEqual({ kind: "exited", exitStatus: 1 });
  }, 20_000);

  test("ssh_pty gives the command a terminal", async () => {
    const withPty = await connectSsh(sshConfig(sshd, { ssh_pty: true }), recordingUi(), never());
    try {
      const out: Uint8Array[] = [];
      const r = await withPty.start({ command: "tty; test -t 1", onStdout: (c) => out.push(c) }, never());
      expect(r).toEqual({ kind: "exited", exitStatus: 0 });
      expect(decode(out)).toMatch(/^\/dev\/pts\/\d+/);
    } finally {
      await withPty.close();
    }
    const r = await comm.start({ command: "test -t 1" }, never());
    expect(r).toEqual({ kind: "exited", exitStatus: 1 });
  });
});

describe("ssh connection loss", () => {
  test("server killed during a long command → disconnected; the next call reconnects", async () => {
    const own = await startSshd();
    const ui = recordingUi();
    const c = await connectSsh(sshConfig(own), ui, never());
    try {
      const started = c.start({ command: "echo started; sleep 30" }, never());
      await Bun.sleep(500);
      await own.kill();
      const r = await started;
      expect(r.kind).toBe("disconnected");
      await own.restart();
      const after = await c.start({ command: "exit 4" }, never());
      expect(after).toEqual({ kind: "exited", exitStatus: 4 });
      expect(ui.text()).toContain("Reconnected to 127.0.0.1");
    } finally {
      await c.close();
      await own.stop();
    }
  });

  test("server killed during an upload → an error naming the transfer and the lost connection", async () => {
    const own = await startSshd();
    const c = await connectSsh(sshConfig(own), recordingUi(), never());
    try {
      const data = new Uint8Array(256 * 1024 * 1024);
      let killing: Promise<void> | undefined;
      const upload = c.upload(`${own.remoteDir}/big`, { kind: "bytes", data }, {
        onProgress: (done) => {
          if (done > 4 * 1024 * 1024) killing ??= own.kill();
        },
      }, never());
      const e = await upload.then(
        () => new Error("the upload finished"),
        (err: unknown) => err as Error,
      );
      await killing;
      expect(e.message).toStartWith(`ssh 127.0.0.1:${own.port}: upload to ${own.remoteDir}/big: connection lost: `);
    } finally {
      await c.close();
      await own.stop();
    }
  });

  test("keep-alives detect a server that stopped answering", async () => {
    const own = await startSshd();
    const c = await connectSsh(sshConfig(own, { ssh_keep_alive_interval: "200ms" }), recordingUi(), never());
    const stopped: number[] = [];
    try {
      const pidOut: Uint8Array[] = [];
      // The session's sshd process (parent of the shell) is the one serving this connection.
      const started = c.start({ command: "ps -o ppid= -p $$; sleep 30", onStdout: (b) => pidOut.push(b) }, never());
      for (let i = 0; i < 50 && !decode(pidOut).trim(); i++) await Bun.sleep(50);
      const sessionPid = Number(decode(pidOut).trim());
      expect(sessionPid).toBeGreaterThan(1);
      // Freeze every sshd process of this server: TCP stays up, nothing answers.
      for (const pid of own.processes()) {
        process.kill(pid, "SIGSTOP");
        stopped.push(pid);
      }
      const t0 = Date.now();
      const r = await started;
      expect(r.kind).toBe("disconnected");
      if (r.kind === "disconnected") expect(r.reason).toContain("keep-alive");
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      for (const pid of stopped) process.kill(pid, "SIGCONT");
      await c.close();
      await own.stop();
    }
  });

  test("keep-alives are sent while idle (server log)", async () => {
    const own = await startSshd();
    const c = await connectSsh(sshConfig(own, { ssh_keep_alive_interval: "100ms" }), recordingUi(), never());
    try {
      await Bun.sleep(800);
      const count = (own.log().match(/keepalive@openssh\.com/g) ?? []).length;
      expect(count).toBeGreaterThanOrEqual(3);
    } finally {
      await c.close();
      await own.stop();
    }
  });

  test("ssh_read_write_timeout drops a silent connection", async () => {
    const own = await startSshd();
    const c = await connectSsh(
      sshConfig(own, { ssh_keep_alive_interval: "-1s", ssh_read_write_timeout: "700ms" }),
      recordingUi(),
      never(),
    );
    try {
      const r = await c.start({ command: "sleep 5" }, never());
      expect(r.kind).toBe("disconnected");
      if (r.kind === "disconnected") expect(r.reason).toContain("ssh_read_write_timeout");
    } finally {
      await c.close();
      await own.stop();
    }
  });
});
