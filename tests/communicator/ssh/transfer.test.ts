// Uploads and downloads over a real OpenSSH server, with both transfer methods: files, bytes,
// folders (rsync trailing-slash rules, excludes), modes, progress, errors naming the path, and a
// 64 MiB file checked by sha256.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectSsh, type SshCommunicator } from "../../../core/communicator/ssh/index.ts";
import { CommunicatorError } from "../../../core/communicator/types.ts";
import { startSshd, stopAllSshd, type Sshd } from "../../support/sshd.ts";
import { decode, never, recordingUi, sshConfig } from "./helpers.ts";

let sshd: Sshd;
let local: string;

beforeAll(async () => {
  sshd = await startSshd();
  local = mkdtempSync(join(tmpdir(), "imgb-ssh-xfer-"));
});
afterAll(async () => {
  await stopAllSshd();
  rmSync(local, { recursive: true, force: true });
});

/** What a remote command prints (runs as the test user). */
async function remote(comm: SshCommunicator, command: string): Promise<string> {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const r = await comm.start({ command, onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) }, never());
  if (r.kind !== "exited" || r.exitStatus !== 0) throw new Error(`${command}: ${JSON.stringify(r)} ${decode(err)}`);
  return decode(out);
}

/** A local tree: src/{a.txt 0644, run.sh 0755, sub/{b.txt 0600, skip.log}, ro/ 0555 {c.txt}, cache/x}. */
function makeTree(root: string): void {
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(join(root, "ro"));
  mkdirSync(join(root, "cache"));
  writeFileSync(join(root, "a.txt"), "A");
  writeFileSync(join(root, "run.sh"), "#!/bin/sh\necho hi\n");
  chmodSync(join(root, "run.sh"), 0o755);
  writeFileSync(join(root, "sub", "b.txt"), "B");
  chmodSync(join(root, "sub", "b.txt"), 0o600);
  writeFileSync(join(root, "sub", "skip.log"), "log");
  writeFileSync(join(root, "ro", "c.txt"), "C");
  writeFileSync(join(root, "cache", "x"), "x");
  chmodSync(join(root, "ro"), 0o555);
}

/** "path mode" lines for every file and folder under dir, sorted (as find -printf would). */
async function remoteListing(comm: SshCommunicator, dir: string): Promise<string> {
  return (await remote(comm, `cd '${dir}' && find . -mindepth 1 -printf '%P %m\\n' | sort`)).trim();
}

for (const method of ["sftp", "scp"] as const) {
  describe(`${method} transfers`, () => {
    let comm: SshCommunicator;
    let base: string;
    beforeAll(async () => {
      comm = await connectSsh(sshConfig(sshd, { ssh_file_transfer_method: method }), recordingUi(), never());
      base = `${sshd.remoteDir}/${method}`;
      await remote(comm, `mkdir -p ${base}`);
    });
    afterAll(async () => {
      await comm?.close();
    });

    test("upload a file keeps its mode; an explicit mode wins; progress is reported", async () => {
      const src = join(local, `${method}-script.sh`);
      writeFileSync(src, "#!/bin/sh\nexit 0\n");
      chmodSync(src, 0o750);
      const progress: Array<[number, number]> = [];
      await comm.upload(`${base}/script.sh`, { kind: "file", path: src }, { onProgress: (d, t) => progress.push([d, t]) }, never());
      expect((await remote(comm, `stat -c '%a %s' ${base}/script.sh`)).trim()).toBe("750 17");
      expect(progress.at(-1)).toEqual([17, 17]);
      await comm.upload(`${base}/script2.sh`, { kind: "file", path: src }, { mode: 0o604 }, never());
      expect((await remote(comm, `stat -c %a ${base}/script2.sh`)).trim()).toBe("604");
    });

    test('upload to "dir/" keeps the file name', async () => {
      const src = join(local, `${method}-named.txt`);
      writeFileSync(src, "named");
      await comm.upload(`${base}/`, { kind: "file", path: src }, {}, never());
      expect(await remote(comm, `cat ${base}/${method}-named.txt`)).toBe("named");
    });

    test("upload bytes (default 0644) and overwrite an existing file", async () => {
      await comm.upload(`${base}/b.txt`, { kind: "bytes", data: new TextEncoder().encode("first version, long") }, {}, never());
      await comm.upload(`${base}/b.txt`, { kind: "bytes", data: new TextEncoder().encode("second") }, {}, never());
      expect(await remote(comm, `cat ${base}/b.txt`)).toBe("second");
      expect((await remote(comm, `stat -c %a ${base}/b.txt`)).trim()).toBe("644");
    });

    test("download to bytes and to a file, keeping the mode", async () => {
      await remote(comm, `printf 'remote data' > ${base}/r.txt && chmod 640 ${base}/r.txt`);
      const bytes = await comm.download(`${base}/r.txt`, { kind: "bytes" }, never());
      expect(Buffer.from(bytes!).toString()).toBe("remote data");
      const dest = join(local, `${method}-r.txt`);
      expect(await comm.download(`${base}/r.txt`, { kind: "file", path: dest }, never())).toBeNull();
      expect(readFileSync(dest, "utf8")).toBe("remote data");
      expect(statSync(dest).mode & 0o777).toBe(0o640);
    });

    test("empty files both ways", async () => {
      await comm.upload(`${base}/empty`, { kind: "bytes", data: new Uint8Array(0) }, {}, never());
      expect((await remote(comm, `stat -c %s ${base}/empty`)).trim()).toBe("0");
      const bytes = await comm.download(`${base}/empty`, { kind: "bytes" }, never());
      expect(bytes!.length).toBe(0);
    });

    test("errors name the host, the operation and the path", async () => {
      const missingLocal = join(local, "does-not-exist");
      const e1 = await comm.upload(`${base}/x`, { kind: "file", path: missingLocal }, {}, never()).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(CommunicatorError);
      expect((e1 as Error).message).toBe(`ssh 127.0.0.1:${sshd.port}: upload ${missingLocal} to ${base}/x: ${missingLocal}: no such file or directory`);

      const e2 = await comm.upload("/root/forbidden.txt", { kind: "bytes", data: new Uint8Array(1) }, {}, never()).catch((e: unknown) => e);
      expect((e2 as Error).message).toStartWith(`ssh 127.0.0.1:${sshd.port}: upload to /root/forbidden.txt: `);
      expect((e2 as Error).message.toLowerCase()).toContain("permission denied");

      const e3 = await comm.download(`${base}/nope`, { kind: "bytes" }, never()).catch((e: unknown) => e);
      expect((e3 as Error).message).toStartWith(`ssh 127.0.0.1:${sshd.port}: download ${base}/nope: `);
      expect((e3 as Error).message.toLowerCase()).toContain("no such file");
      // The connection is still usable afterwards.
      expect(await remote(comm, "echo ok")).toBe("ok\n");
    });

    test('uploadDir "src" copies the folder itself; modes kept; excludes; read-only folders filled', async () => {
      const src = join(local, `${method}-tree`);
      makeTree(src);
      await comm.uploadDir(`${base}/dirA`, src, ["*.log", "cache"], never());
      const name = `${method}-tree`;
      expect(await remoteListing(comm, `${base}/dirA`)).toBe(
        [`${name} 755`, `${name}/a.txt 644`, `${name}/ro 555`, `${name}/ro/c.txt 644`, `${name}/run.sh 755`, `${name}/sub 755`, `${name}/sub/b.txt 600`]
          .sort()
          .join("\n"),
      );
      expect(await remote(comm, `cat ${base}/dirA/${name}/sub/b.txt`)).toBe("B");
    });

    test('uploadDir "src/" copies the contents into dest (created if missing)', async () => {
      const src = join(local, `${method}-tree2`);
      makeTree(src);
      await comm.uploadDir(`${base}/dirB/deeper`, `${src}/`, ["sub/skip.log", "cache/"], never());
      expect(await remoteListing(comm, `${base}/dirB/deeper`)).toBe(
        ["a.txt 644", "ro 555", "ro/c.txt 644", "run.sh 755", "sub 755", "sub/b.txt 600"].join("\n"),
      );
    });

    test('downloadDir "src" and "src/" with excludes, modes kept', async () => {
      const tree = `${base}/dl`;
      await remote(
        comm,
        `mkdir -p ${tree}/in/deep && printf one > ${tree}/in/one && chmod 751 ${tree}/in/one && printf two > ${tree}/in/deep/two.log && printf three > ${tree}/in/deep/three && chmod 700 ${tree}/in/deep`,
      );
      const d1 = join(local, `${method}-dl1`);
      await comm.downloadDir(`${tree}/in`, d1, ["*.log"], never());
      expect(readFileSync(join(d1, "in", "one"), "utf8")).toBe("one");
      expect(statSync(join(d1, "in", "one")).mode & 0o777).toBe(0o751);
      expect(statSync(join(d1, "in", "deep")).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(d1, "in", "deep", "three"), "utf8")).toBe("three");
      expect(existsSync(join(d1, "in", "deep", "two.log"))).toBe(false);

      const d2 = join(local, `${method}-dl2`);
      await comm.downloadDir(`${tree}/in/`, d2, [], never());
      expect(readFileSync(join(d2, "one"), "utf8")).toBe("one");
      expect(readFileSync(join(d2, "deep", "two.log"), "utf8")).toBe("two");
      expect(existsSync(join(d2, "in"))).toBe(false);
    });

    test("64 MiB file: upload and download intact (sha256)", async () => {
      const big = join(local, `${method}-big.bin`);
      const fh = await open(big, "w");
      const block = randomBytes(1024 * 1024);
      for (let i = 0; i < 64; i++) {
        block.writeUInt32BE(i, 0); // every MiB differs, so a misplaced chunk changes the hash
        await fh.write(block);
      }
      await fh.close();
      const localSum = await sha256File(big);
      let lastProgress = 0;
      await comm.upload(`${base}/big.bin`, { kind: "file", path: big }, { onProgress: (d) => (lastProgress = d) }, never());
      expect(lastProgress).toBe(64 * 1024 * 1024);
      expect((await remote(comm, `sha256sum ${base}/big.bin`)).split(" ")[0]).toBe(localSum);
      const back = join(local, `${method}-big.back`);
      await comm.download(`${base}/big.bin`, { kind: "file", path: back }, never());
      expect(await sha256File(back)).toBe(localSum);
      rmSync(big);
      rmSync(back);
      await remote(comm, `rm -f ${base}/big.bin`);
    }, 60_000);

    test("cancelling an upload stops it; the connection stays usable", async () => {
      const ac = new AbortController();
      const data = new Uint8Array(128 * 1024 * 1024);
      const t0 = Date.now();
      const e = await comm
        .upload(`${base}/cancelled.bin`, { kind: "bytes", data }, { onProgress: (d) => d > 2 * 1024 * 1024 && ac.abort(new Error("stop")) }, ac.signal)
        .then(
          () => new Error("finished"),
          (err: unknown) => err as Error,
        );
      expect(e.message).toBe("stop");
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(await remote(comm, "echo still-here")).toBe("still-here\n");
    });

    test("paths with spaces and quotes", async () => {
      const dir = `${base}/it's a dir`;
      await remote(comm, `mkdir -p "${dir}"`);
      await comm.upload(`${dir}/f g.txt`, { kind: "bytes", data: new TextEncoder().encode("q") }, {}, never());
      const back = await comm.download(`${dir}/f g.txt`, { kind: "bytes" }, never());
      expect(Buffer.from(back!).toString()).toBe("q");
    });
  });
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}
