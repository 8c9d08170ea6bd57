// Uploads write beside the destination and rename into place: an interrupted upload leaves neither
// a truncated destination nor the temporary, an existing file is replaced whole, and a folder at
// the destination is refused. Over a real OpenSSH server (sftp and scp) and the exec communicator
// that container and chroot use (here with a plain local shell as its transport).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execCommunicator } from "../../core/communicator/container/index.ts";
import { connectSsh } from "../../core/communicator/ssh/index.ts";
import type { Communicator } from "../../core/communicator/types.ts";
import { startSshd, stopAllSshd, type Sshd } from "../support/sshd.ts";
import { decode, never, recordingUi, sshConfig } from "./ssh/helpers.ts";

let sshd: Sshd;
let local: string;
let big: string;

beforeAll(async () => {
  sshd = await startSshd();
  local = mkdtempSync(join(tmpdir(), "imgb-partial-"));
  big = join(local, "big.bin");
  writeFileSync(big, randomBytes(48 * 2 ** 20));
});
afterAll(async () => {
  await stopAllSshd();
  rmSync(local, { recursive: true, force: true });
});

async function sh(comm: Communicator, command: string): Promise<string> {
  const out: Uint8Array[] = [];
  const r = await comm.start({ command, onStdout: (c) => out.push(c) }, never());
  if (r.kind !== "exited") throw new Error(`${command}: ${JSON.stringify(r)}`);
  return decode(out);
}

function cases(name: string, open: () => Promise<{ comm: Communicator; dir: string }>): void {
  describe(name, () => {
    let comm: Communicator;
    let dir: string;
    beforeAll(async () => {
      ({ comm, dir } = await open());
      await sh(comm, `mkdir -p '${dir}' && mkdir -p '${dir}/folder'`);
    });
    afterAll(async () => {
      await comm?.close();
    });

    test("an interrupted upload leaves no destination and no temporary", async () => {
      const ac = new AbortController();
      const dest = `${dir}/interrupted.bin`;
      const err = await comm
        .upload(dest, { kind: "file", path: big }, { onProgress: (done) => done > 0 && ac.abort(new Error("interrupted")) }, ac.signal)
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeDefined();
      // The first chunk may be all there was time to write; whatever it was, it is not at dest.
      expect((await sh(comm, `ls -A '${dir}'`)).trim().split("\n").sort()).toEqual(["folder"]);
    }, 30_000);

    test("an existing file is replaced whole, with the upload's mode", async () => {
      const dest = `${dir}/replaced.txt`;
      await comm.upload(dest, { kind: "bytes", data: new TextEncoder().encode("old contents, longer\n") }, { mode: 0o600 }, never());
      await comm.upload(dest, { kind: "bytes", data: new TextEncoder().encode("new\n") }, { mode: 0o640 }, never());
      expect(await sh(comm, `cat '${dest}'; stat -c %a '${dest}'`)).toBe("new\n640\n");
      expect((await sh(comm, `ls -A '${dir}' | grep -c imgb-part || true`)).trim()).toBe("0");
    });

    test("a folder at the destination is refused, and nothing is left in it", async () => {
      const err = await comm
        .upload(`${dir}/folder`, { kind: "bytes", data: new TextEncoder().encode("x") }, {}, never())
        .then(() => undefined, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((await sh(comm, `ls -A '${dir}/folder'; ls -A '${dir}' | grep -c imgb-part || true`)).trim()).toBe("0");
    });
  });
}

for (const method of ["sftp", "scp"] as const) {
  cases(`ssh ${method}`, async () => ({
    comm: await connectSsh(sshConfig(sshd, { ssh_file_transfer_method: method }), recordingUi(), never()),
    dir: `${sshd.remoteDir}/partial-${method}`,
  }));
}

cases("exec communicator (container, chroot)", async () => {
  const dir = join(local, "exec");
  mkdirSync(dir);
  const comm = execCommunicator({ type: "shell", target: "local shell", shellArgv: (script) => ["/bin/sh", "-c", script] });
  return { comm, dir };
});

test("partial names stay hidden, unique and within 255 bytes", async () => {
  const { partialName } = await import("../../core/communicator/partial-upload.ts");
  const long = "é".repeat(200);
  const a = partialName(long);
  expect(a.startsWith(".")).toBe(true);
  expect(Buffer.byteLength(a)).toBeLessThanOrEqual(255);
  expect(partialName("x")).not.toBe(partialName("x"));
});
