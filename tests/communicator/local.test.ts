// The local communicator: real /bin/sh processes in their own process group, real file copies.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localCommunicator, runLocalProcess } from "../../core/communicator/local.ts";
import { expectGone, processAlive } from "../plugin/support.ts";

const dir = mkdtempSync(join(tmpdir(), "imgb-local-comm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const never = () => new AbortController().signal;
const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString("utf8");

describe("local communicator", () => {
  test("start runs /bin/sh -c, streams stdout/stderr, feeds stdin and returns the exit status", async () => {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const r = await localCommunicator().start(
      { command: "cat; echo oops >&2; exit 5", stdin: new TextEncoder().encode("in-data"), onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) },
      never(),
    );
    expect(r).toEqual({ kind: "exited", exitStatus: 5 });
    expect(text(out)).toBe("in-data");
    expect(text(err)).toBe("oops\n");
  });

  test("abort kills the whole process group, background children included", async () => {
    const pidFile = join(dir, "bg.pid");
    const ac = new AbortController();
    const pending = localCommunicator().start({ command: `sleep 30 & echo $! > ${pidFile}; sleep 30` }, ac.signal);
    for (let i = 0; i < 200 && !(existsSync(pidFile) && readFileSync(pidFile, "utf8").trim()); i++) await Bun.sleep(10);
    const bg = Number(readFileSync(pidFile, "utf8").trim());
    expect(processAlive(bg)).toBe(true);
    const t = Date.now();
    ac.abort(new Error("timeout"));
    expect(await pending).toEqual({ kind: "disconnected", reason: "timeout" });
    expect(Date.now() - t).toBeLessThan(1500);
    await expectGone([bg]);
  });

  test("a group that ignores SIGTERM is killed after the grace period", async () => {
    const ac = new AbortController();
    const pending = runLocalProcess(["/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"], { killGraceMs: 200, onStdout: () => ac.abort() }, ac.signal);
    const r = await pending;
    expect(r.kind).toBe("disconnected");
  });

  test("a program that cannot start is a CommunicatorError naming it", async () => {
    await expect(runLocalProcess(["/nonexistent/prog"], {}, never())).rejects.toThrow('local: cannot start "/nonexistent/prog"');
  });

  test("upload and download copy files with modes; bytes come back", async () => {
    const comm = localCommunicator();
    const src = join(dir, "src.sh");
    writeFileSync(src, "#!/bin/sh\necho hi\n");
    chmodSync(src, 0o751);
    await comm.upload(join(dir, "copy.sh"), { kind: "file", path: src }, {}, never());
    expect(statSync(join(dir, "copy.sh")).mode & 0o777).toBe(0o751);
    await comm.upload(join(dir, "bytes.txt"), { kind: "bytes", data: new TextEncoder().encode("data") }, { mode: 0o600 }, never());
    expect(statSync(join(dir, "bytes.txt")).mode & 0o777).toBe(0o600);
    expect(new TextDecoder().decode((await comm.download(join(dir, "bytes.txt"), { kind: "bytes" }, never()))!)).toBe("data");
    expect(await comm.download(join(dir, "bytes.txt"), { kind: "file", path: join(dir, "back.txt") }, never())).toBeNull();
    expect(readFileSync(join(dir, "back.txt"), "utf8")).toBe("data");
    await expect(comm.download(join(dir, "missing"), { kind: "bytes" }, never())).rejects.toThrow("local: download of");
  });

  test("uploadDir follows Packer's trailing-slash rule and excludes", async () => {
    const comm = localCommunicator();
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "sub"), { recursive: true });
    writeFileSync(join(tree, "a.txt"), "a");
    writeFileSync(join(tree, "skip.log"), "x");
    writeFileSync(join(tree, "sub", "b.txt"), "b");
    await comm.uploadDir(join(dir, "contents"), `${tree}/`, ["*.log"], never());
    expect(readFileSync(join(dir, "contents", "sub", "b.txt"), "utf8")).toBe("b");
    expect(existsSync(join(dir, "contents", "skip.log"))).toBe(false);
    await comm.uploadDir(join(dir, "itself"), tree, [], never());
    expect(readFileSync(join(dir, "itself", "tree", "a.txt"), "utf8")).toBe("a");
  });
});
