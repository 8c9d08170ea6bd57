// The hostile-plugin suite: small AssemblyScript plugins (tests/plugin/hostile/) built by the suite
// and run through the real sandbox. Each misdeed must end in a clear error naming the plugin, and no
// sandbox process may outlive it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { commitStaged } from "../../core/plugin/host/trees.ts";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { noneCommunicator } from "../../core/communicator/types.ts";
import { localCommunicator } from "../../core/communicator/local.ts";
import { Output } from "../../core/ui/output.ts";
import { BuildUi } from "../../core/ui/build-ui.ts";
import { requireBinary, runImgb } from "../support/binary.ts";
import { nullSshBuilder, startSshd, type Sshd } from "../support/sshd.ts";
import { podmanBaseImage } from "../support/images.ts";
import { containerCommunicator } from "../../core/communicator/container/index.ts";
import { initPlugins } from "../../core/registry/init.ts";
import { makeRegistry, required, TestUi } from "../registry/harness.ts";
import type { Provisioner } from "../../core/plugin/types.ts";
import type { JsonObject } from "../../core/values/json.ts";
import type { Artifact } from "../../core/engine/artifact.ts";
import { hostileBytes } from "./hostile/build.ts";
import { RecordingUi, buildValues, expectGone, processAlive, sandboxChildren } from "./support.ts";
import { wasmModule } from "../support/wasm-bytes.ts";

const LIMITS = { cpuMsPerCall: 1000, memoryBytes: 16 * 2 ** 20, messageBytes: 1 * 2 ** 20, abortGraceMs: 300 };
const PROBE_CAPS = ["local_file_read", "local_exec", "temp_file"];

let catalog: WasmPluginCatalog;
let probe: Uint8Array;
let dir: string;

beforeAll(async () => {
  probe = await hostileBytes("probe");
  await hostileBytes("wasi");
  await hostileBytes("undeclared");
  // Built up front (each compile takes seconds), not inside a test's time limit.
  await hostileBytes("noexports");
  await hostileBytes("forger");
  catalog = createPluginCatalog({ embedded: false, limits: LIMITS });
  await catalog.registerWasm(probe, PROBE_CAPS);
  dir = mkdtempSync(join(tmpdir(), "imgb-hostile-"));
}, 120_000);

afterAll(async () => {
  await catalog.closeAll();
  rmSync(dir, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

type Probe = Provisioner & { pids: number[] };

async function provisionProbe(config: JsonObject, cat: WasmPluginCatalog = catalog): Promise<{ error: string | null; ui: RecordingUi; pids: number[]; ms: number }> {
  const p = (await cat.provisioner("probe")) as Probe;
  const r = await p.prepare([config]);
  expect(r.diagnostics).toEqual([]);
  const pids = p.pids;
  const ui = new RecordingUi();
  const started = performance.now();
  let error: string | null = null;
  try {
    await p.provision({ ui, communicator: noneCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal });
  } catch (e) {
    error = (e as Error).message;
  }
  const ms = performance.now() - started;
  await p.close();
  await expectGone(pids);
  return { error, ui, pids, ms };
}

describe("hostile plugins", () => {
  test("a well-behaved call works (control)", async () => {
    const r = await provisionProbe({ action: "ok", count: 7 });
    expect(r.error).toBeNull();
    expect(r.ui.lines).toEqual(["say: probe ok 7"]);
  });

  test("an infinite loop is killed at the CPU limit", async () => {
    const r = await provisionProbe({ action: "loop" });
    expect(r.error).toBe("plugin probe: exceeded its CPU time limit of 1000 ms");
    expect(r.ms).toBeGreaterThanOrEqual(900);
    expect(r.ms).toBeLessThan(3000);
  });

  test("an infinite loop in prepare is killed too", async () => {
    const p = (await catalog.provisioner("probe")) as Probe;
    // A first prepare starts the instance's sandbox, so its pid is known before the loop.
    expect((await p.prepare([{ action: "ok", count: 1 }])).diagnostics).toEqual([]);
    const pids = p.pids;
    expect(pids.length).toBe(1);
    await expect(p.prepare([{ action: "loop_in_prepare" }])).rejects.toThrow("plugin probe: exceeded its CPU time limit of 1000 ms");
    await p.close();
    await expectGone(pids);
  });

  test("time waiting in host calls is not plugin CPU time", async () => {
    const r = await provisionProbe({ action: "exec", path: "sleep 1.3" });
    expect(r.error).toBeNull();
    expect(r.ui.lines).toEqual(["say: exit 0"]);
    expect(r.ms).toBeGreaterThan(1300);
  });

  test("a memory bomb stops at the memory limit", async () => {
    const r = await provisionProbe({ action: "membomb" });
    expect(r.error).toBe("plugin probe: out of memory (limit 16 MiB)");
  });

  test("a trap is an error naming the plugin", async () => {
    const r = await provisionProbe({ action: "trap" });
    expect(r.error).toStartWith("plugin probe: trapped: ");
  });

  test("abort() keeps AssemblyScript's message", async () => {
    const r = await provisionProbe({ action: "abort" });
    expect(r.error).toStartWith("plugin probe: ");
    expect(r.error).toContain("deliberate abort");
  });

  test("garbage output is refused", async () => {
    const r = await provisionProbe({ action: "garbage" });
    expect(r.error).toStartWith("plugin probe: provision answered something that is not JSON");
  });

  test("output over the message limit is refused", async () => {
    const r = await provisionProbe({ action: "big_output", count: 2 * 2 ** 20 });
    expect(r.error).toMatch(/^plugin probe: output of provision is \d+ bytes, over the limit of 1048576$/);
  });

  test("a 100 MB output is a clean error (default limits)", async () => {
    const cat = createPluginCatalog({ embedded: false });
    await cat.registerWasm(probe, PROBE_CAPS);
    const r = await provisionProbe({ action: "huge_host" }, cat);
    await cat.closeAll();
    expect(r.error).toStartWith("plugin probe: ");
    expect(r.error!.length).toBeLessThan(400);
  });

  test("100k UI calls hit the rate limit", async () => {
    const t0 = performance.now();
    const r = await provisionProbe({ action: "ui_flood", count: 100_000 });
    const seconds = (performance.now() - t0) / 1000;
    expect(r.error).toBe("plugin probe: too many UI messages (limit 2000 at once, 500 a second)");
    // The burst, plus what the bucket refills while the call runs (slower on a loaded machine).
    expect(r.ui.lines.length).toBeLessThanOrEqual(2000 + Math.ceil(500 * seconds) + 10);
    expect(r.ui.lines.length).toBeLessThan(100_000);
  });

  test("a path outside the grant is refused with plugin, capability and argument", async () => {
    const r = await provisionProbe({ action: "read", path: "/etc/passwd" });
    expect(r.error).toBe('plugin probe: capability local_file_read refused for "/etc/passwd": outside the template directory and the working directory');
    writeFileSync(join(dir, "inside.txt"), "12345");
    const ok = await provisionProbe({ action: "read", path: join(dir, "inside.txt") });
    expect(ok.error).toBeNull();
    expect(ok.ui.lines).toEqual(["say: read 5 bytes"]);
  });

  test("a capability declared but not granted is refused, even when the plugin ignores the refusal", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    await cat.registerWasm(probe, ["temp_file"]);
    const r = await provisionProbe({ action: "ignore_refusal" }, cat);
    await cat.closeAll();
    expect(r.error).toBe("plugin probe: capability local_file_read refused: not granted to this plugin (local_file_read)");
  });

  test("a side effect in prepare is refused", async () => {
    const p = (await catalog.provisioner("probe")) as Probe;
    await expect(p.prepare([{ action: "exec_in_prepare" }])).rejects.toThrow(
      "plugin probe: capability local_exec refused during prepare: prepare must have no side effects",
    );
    await expect(p.prepare([{ action: "temp_in_prepare" }])).rejects.toThrow("plugin probe: capability temp_file refused during prepare");
    await p.close();
  });

  test("a config with wrong types never reaches the plugin", async () => {
    const p = (await catalog.provisioner("probe")) as Probe;
    const r = await p.prepare([{ count: "abc", names: { a: "b" } }]);
    expect(r.diagnostics.map((d) => `${d.summary} (${d.detail})`)).toEqual([
      `cannot parse 'count' as number: "abc" is not a number (plugin probe)`,
      "'names[0]' expected type 'string', got unconvertible type 'map[string]interface {}' (plugin probe)",
      "required configuration key 'action' is not set (plugin probe)",
    ]);
    // Packer's weak typing still applies: "7" is a number, a single string is a one-element list.
    const weak = await p.prepare([{ action: "ok", count: "7", names: "one" }]);
    expect(weak.diagnostics).toEqual([]);
    expect(weak.config).toMatchObject({ count: 7, names: ["one"] });
    await p.close();
  });

  test("a module importing WASI is refused before it runs", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    const bytes = await hostileBytes("wasi");
    await expect(cat.registerWasm(bytes, [], "installed", "wasi-user.wasm")).rejects.toThrow(
      'plugin wasi-user.wasm: module imports WASI ("wasi_snapshot_preview1"."proc_exit"); imgb plugins run without WASI',
    );
    expect(cat.sandboxPids()).toEqual([]);
    await cat.closeAll();
  });

  test("a module importing an undeclared host function is refused before it runs", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    const bytes = await hostileBytes("undeclared");
    await expect(cat.registerWasm(bytes, [], "installed", "sneaky.wasm")).rejects.toThrow(
      'plugin sneaky.wasm: module imports function "extism:host/user"."launch_missiles", which imgb does not provide',
    );
    await cat.closeAll();
  });

  test("a sandbox whose parent dies exits by itself", async () => {
    const script = join(import.meta.dir, "fixtures", "orphan-parent.ts");
    const proc = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    const childPid = Number(out.trim());
    expect(childPid).toBeGreaterThan(0);
    await expectGone([childPid], 3000);
    expect(processAlive(childPid)).toBe(false);
  });
});

describe("modules that do not fit their description", () => {
  test("a provisioner without prepare/provision exports is refused when registered", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    const bytes = await hostileBytes("noexports");
    await expect(cat.registerWasm(bytes, [], "installed", "noexports.wasm")).rejects.toThrow(
      "plugin lazy: a provisioner must export prepare and provision; the module lacks prepare and provision",
    );
    await cat.closeAll();
  });
});

// ---- Grants: every path a plugin names or returns goes through one check (docs/plugin-abi.md §3, §13).

function inputArtifact(files: string[]): Artifact {
  return { builderId: "test.input", id: "in", files, string: "input", state: {}, destroy: async () => {} };
}

async function forge(granted: string[], config: JsonObject, outputDir: string, input: Artifact = inputArtifact([])) {
  const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
  await cat.registerWasm(await hostileBytes("forger"), granted);
  const pp = await cat.postProcessor("acme/forger");
  try {
    const c = await pp.configure([config]);
    expect(c.diagnostics).toEqual([]);
    const ui = new RecordingUi();
    try {
      const r = await pp.postProcess({ ui, build: buildValues(), templateDir: outputDir, signal: new AbortController().signal, outputDir }, input);
      return { result: r, error: null as string | null, ui };
    } catch (e) {
      return { result: null, error: (e as Error).message, ui };
    }
  } finally {
    await cat.closeAll();
  }
}

describe("forged artifacts (a post-processor names host files it was never given)", () => {
  test("a plugin with no file capability cannot name a host file; nothing is archived or deleted", async () => {
    const root = mkdtempSync(join(tmpdir(), "imgb-forge-"));
    try {
      const out = join(root, "out");
      mkdirSync(out);
      const secret = join(root, "secret.txt");
      const inOut = join(out, "users-own.txt");
      writeFileSync(secret, "secret");
      writeFileSync(inOut, "mine");
      for (const f of [secret, inOut, "../secret.txt"]) {
        const r = await forge([], { files: [f] }, out);
        expect(r.error).toBe(
          `plugin acme/forger: post_process returned an artifact file it could not have written: ${JSON.stringify(f)} (outside the input artifact's files and the files this call wrote)`,
        );
      }
      expect(readFileSync(secret, "utf8")).toBe("secret");
      expect(readFileSync(inOut, "utf8")).toBe("mine");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);

  test("a symlink in the output folder to a host file is not an output; a file the call wrote is, and only it is cleaned up", async () => {
    const root = mkdtempSync(join(tmpdir(), "imgb-forge-"));
    try {
      const out = join(root, "out");
      mkdirSync(out);
      const secret = join(root, "secret.txt");
      writeFileSync(secret, "secret");
      symlinkSync(secret, join(out, "link.txt"));
      const viaLink = await forge(["artifact_read", "artifact_write"], { files: [join(out, "link.txt")] }, out);
      expect(viaLink.error).toBe(
        `plugin acme/forger: post_process returned an artifact file it could not have written: ${JSON.stringify(join(out, "link.txt"))} (outside the input artifact's files and the files this call wrote and the output directory)`,
      );
      // A file the call wrote, next to one the user had: the artifact may name both (artifice does),
      // but destroying it removes only what the call created.
      const users = join(out, "users.txt");
      writeFileSync(users, "mine");
      const made = join(out, "made.txt");
      const ok = await forge(
        ["artifact_read", "artifact_write"],
        { files: [made, users], calls: [`artifact_write\t${JSON.stringify({ path: made, data_base64: "aGk=" })}`] },
        out,
      );
      expect(ok.error).toBeNull();
      expect(readFileSync(made, "utf8")).toBe("hi");
      await ok.result!.artifact.destroy();
      expect(existsSync(made)).toBe(false);
      expect(readFileSync(users, "utf8")).toBe("mine");
      expect(readFileSync(secret, "utf8")).toBe("secret");
      // The input artifact's own files pass through; what a refused call created does not stay.
      const input = join(root, "input.img");
      writeFileSync(input, "disk");
      const pass = await forge([], { files: [input] }, out, inputArtifact([input]));
      expect(pass.error).toBeNull();
      const left = join(out, "left.txt");
      const refused = await forge(
        ["artifact_write"],
        { files: [left, secret], calls: [`artifact_write\t${JSON.stringify({ path: left, data_base64: "aGk=" })}`] },
        out,
      );
      expect(refused.error).toContain("could not have written");
      expect(existsSync(left)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});

// A playground inside the working directory (granted) and a victim folder outside every grant.
interface Playground {
  work: string;
  outside: string;
  remote: string;
  cleanup: () => void;
}

const SECRET = "SECRET-imgb-hostile";

function playground(): Playground {
  const base = join(process.cwd(), "tests", ".tmp");
  mkdirSync(base, { recursive: true });
  const work = mkdtempSync(join(base, "hostile-"));
  const outside = mkdtempSync(join(tmpdir(), "imgb-victim-"));
  const remote = mkdtempSync(join(tmpdir(), "imgb-remote-"));
  writeFileSync(join(outside, "secret"), SECRET);
  mkdirSync(join(outside, "target"));
  symlinkSync(join(outside, "secret"), join(work, "lfile"));
  symlinkSync(outside, join(work, "ldir"));
  symlinkSync(join(outside, "missing"), join(work, "dangling"));
  symlinkSync(join(work, "loop2"), join(work, "loop1"));
  symlinkSync(join(work, "loop1"), join(work, "loop2"));
  // A hard link in the working folder to a file elsewhere: reading it reads a file the user put in
  // the folder (allowed); writing through it is refused.
  writeFileSync(join(outside, "hardlinked"), "HARDLINKED");
  try {
    linkSync(join(outside, "hardlinked"), join(work, "hard"));
  } catch {
    // another file system: no hard link possible from here
  }
  // An upload source with a link out, and a download destination with links planted in it.
  mkdirSync(join(work, "tree", "sub"), { recursive: true });
  writeFileSync(join(work, "tree", "ok.txt"), "fine");
  symlinkSync(join(outside, "secret"), join(work, "tree", "sub", "leak"));
  mkdirSync(join(work, "dl"));
  symlinkSync(join(outside, "target"), join(work, "dl", "a"));
  symlinkSync(join(outside, "secret"), join(work, "dl", "f"));
  // What the machine (here: the local communicator) holds.
  mkdirSync(join(remote, "src", "a"), { recursive: true });
  writeFileSync(join(remote, "src", "a", "pwned"), "pwned");
  writeFileSync(join(remote, "src", "f"), "overwritten");
  writeFileSync(join(remote, "file"), "remote file");
  return {
    work,
    outside,
    remote,
    cleanup: () => {
      for (const d of [work, outside, remote]) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Every hostile spelling of a path, relative to the playground. */
function hostilePaths(p: Playground): string[] {
  const w = p.work;
  return [
    join(w, "../../../../../../../../etc/passwd"),
    relative(process.cwd(), join(p.outside, "secret")),
    join(p.outside, "secret"),
    join(p.outside, "new"),
    "/etc/passwd",
    join(w, "lfile"),
    join(w, "ldir", "secret"),
    join(w, "ldir", "new"),
    join(w, "ldir", "target", "new"),
    join(w, "dangling"),
    join(w, "loop1"),
    join(w, "loop1", "x"),
    join(w, "hard"),
    join(w, "new\nline"),
    join(w, "nul\0byte"),
    join(w, "x".repeat(300)),
    join(w, ...Array.from({ length: 40 }, () => "y".repeat(120))),
  ];
}

/** Nothing outside the grants changed, and nothing the plugin was told contains the secret. */
function expectContained(p: Playground, said: string[]): void {
  expect(readdirSync(p.outside).sort()).toEqual(["hardlinked", "secret", "target"]);
  expect(readFileSync(join(p.outside, "secret"), "utf8")).toBe(SECRET);
  expect(readFileSync(join(p.outside, "hardlinked"), "utf8")).toBe("HARDLINKED");
  expect(readdirSync(join(p.outside, "target"))).toEqual([]);
  // A system file's content is recognised by its first line, long enough not to turn up by chance in a temp path
  // (a short host name such as "vm" does).
  const systemLine = readFileSync("/etc/passwd", "utf8").split("\n")[0] ?? "";
  const leaked = [SECRET, Buffer.from(SECRET).toString("base64"), systemLine, Buffer.from(systemLine).toString("base64").slice(0, 16)];
  for (const line of said) for (const l of leaked) expect(line).not.toContain(l);
  for (const f of readdirRecursive(p.remote)) expect(readFileSync(f, "utf8")).not.toContain(SECRET);
}

function readdirRecursive(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const call = (fn: string, req: JsonObject) => `${fn}\t${JSON.stringify(req)}`;

async function provisionCalls(calls: string[]): Promise<{ error: string | null; ui: RecordingUi }> {
  const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
  await cat.registerWasm(probe, ["communicator", "local_file_read", "temp_file"]);
  const p = (await cat.provisioner("probe")) as Probe;
  const prepared = await p.prepare([{ action: "calls", names: calls }]);
  expect(prepared.diagnostics).toEqual([]);
  const ui = new RecordingUi();
  let error: string | null = null;
  try {
    await p.provision({ ui, communicator: localCommunicator(), build: buildValues(), templateDir: join(process.cwd(), "tests", ".tmp"), signal: new AbortController().signal });
  } catch (e) {
    error = (e as Error).message;
  }
  await cat.closeAll();
  return { error, ui };
}

describe("every path-taking host function: .., absolute, symlinks, dangling, loops, hard links, odd names", () => {
  test("provisioner functions (local_file_read, comm_upload, comm_upload_dir, comm_download, comm_download_dir)", async () => {
    const p = playground();
    try {
      const calls: string[] = [];
      for (const path of hostilePaths(p)) {
        calls.push(call("local_file_read", { path }));
        calls.push(call("comm_upload", { dest: join(p.remote, "up"), src: { path } }));
        calls.push(call("comm_upload_dir", { dest: join(p.remote, "updir"), src: path }));
        calls.push(call("comm_download", { src: join(p.remote, "file"), dest: { path } }));
        calls.push(call("comm_download_dir", { src: join(p.remote, "src") + "/", dest: path }));
      }
      const r = await provisionCalls(calls);
      expect(r.error).toStartWith("plugin probe: capability ");
      expect(r.ui.lines.length).toBe(calls.length);
      expectContained(p, r.ui.lines);
    } finally {
      p.cleanup();
    }
  }, 60_000);

  test("comm_download_dir never writes through a symlink already in the destination", async () => {
    const p = playground();
    try {
      const r = await provisionCalls([call("comm_download_dir", { src: join(p.remote, "src") + "/", dest: join(p.work, "dl") })]);
      expect(r.error).toBe(
        `plugin probe: comm_download_dir refused: ${JSON.stringify(join(p.work, "dl", "a"))} exists and is not a folder (a symbolic link); imgb does not write through links`,
      );
      expectContained(p, r.ui.lines);
      // No staging folder is left behind in the destination.
      expect(readdirSync(join(p.work, "dl")).filter((n) => n.startsWith(".imgb-"))).toEqual([]);
      // Without the planted folder link the same download works, and replaces (never follows) dl/f.
      rmSync(join(p.work, "dl", "a"));
      const ok = await provisionCalls([call("comm_download_dir", { src: join(p.remote, "src") + "/", dest: join(p.work, "dl") })]);
      expect(ok.error).toBeNull();
      expect(readFileSync(join(p.work, "dl", "a", "pwned"), "utf8")).toBe("pwned");
      expect(readFileSync(join(p.work, "dl", "f"), "utf8")).toBe("overwritten");
      expectContained(p, ok.ui.lines);
    } finally {
      p.cleanup();
    }
  }, 30_000);

  test("comm_upload_dir refuses a source whose tree links outside the grants", async () => {
    const p = playground();
    try {
      const r = await provisionCalls([call("comm_upload_dir", { src: join(p.work, "tree"), dest: join(p.remote, "up") })]);
      expect(r.error).toBe(
        `plugin probe: capability communicator refused for ${JSON.stringify(join(p.work, "tree", "sub", "leak"))}: outside the template directory and the working directory`,
      );
      expect(existsSync(join(p.remote, "up"))).toBe(false);
      rmSync(join(p.work, "tree", "sub", "leak"));
      symlinkSync("../ok.txt", join(p.work, "tree", "sub", "inside"));
      const ok = await provisionCalls([call("comm_upload_dir", { src: join(p.work, "tree"), dest: join(p.remote, "up") })]);
      expect(ok.error).toBeNull();
      expect(readFileSync(join(p.remote, "up", "tree", "sub", "inside"), "utf8")).toBe("fine");
      expectContained(p, ok.ui.lines);
    } finally {
      p.cleanup();
    }
  }, 30_000);

  test("a download brings no set-ID bit, device node or FIFO into a granted folder", async () => {
    const p = playground();
    try {
      // Through a plugin: a set-user-ID file on the machine arrives without its bit.
      writeFileSync(join(p.remote, "src", "suid"), "#!/bin/sh\n");
      chmodSync(join(p.remote, "src", "suid"), 0o4755);
      const r = await provisionCalls([call("comm_download_dir", { src: join(p.remote, "src") + "/", dest: join(p.work, "fresh") })]);
      expect(r.error).toBeNull();
      expect(statSync(join(p.work, "fresh", "suid")).mode & 0o7777).toBe(0o755);
      // What any communicator's unpacking (tar as root) may stage: refused before anything moves in.
      const staged = mkdtempSync(join(p.work, "staged-"));
      expect(Bun.spawnSync(["mkfifo", join(staged, "fifo")]).exitCode).toBe(0);
      await expect(commitStaged(staged, join(p.work, "dest-fifo"), () => {})).rejects.toThrow(`${JSON.stringify(join(staged, "fifo"))} is a FIFO; imgb downloads only files, folders and links`);
      rmSync(join(staged, "fifo"));
      if (process.getuid?.() === 0) {
        // A node of the host's memory device (1, 1); root can make one, as tar -x does.
        expect(Bun.spawnSync(["mknod", join(staged, "mem"), "c", "1", "1"]).exitCode).toBe(0);
        await expect(commitStaged(staged, join(p.work, "dest-dev"), () => {})).rejects.toThrow("is a device node; imgb downloads only files, folders and links");
      }
      expect(existsSync(join(p.work, "dest-fifo", "fifo"))).toBe(false);
      expect(existsSync(join(p.work, "dest-dev", "mem"))).toBe(false);
    } finally {
      p.cleanup();
    }
  }, 30_000);

  test("folder transfers through the local communicator refuse a FIFO instead of waiting on it for ever", async () => {
    const p = playground();
    try {
      expect(Bun.spawnSync(["mkfifo", join(p.remote, "src", "fifo")]).exitCode).toBe(0);
      expect(Bun.spawnSync(["mkfifo", join(p.work, "tree", "fifo")]).exitCode).toBe(0);
      rmSync(join(p.work, "tree", "sub", "leak"));
      const down = await provisionCalls([call("comm_download_dir", { src: join(p.remote, "src") + "/", dest: join(p.work, "fresh") })]);
      expect(down.ui.lines).toEqual([`say: comm_download_dir {"error":"comm_download_dir: local: ${join(p.remote, "src", "fifo")} is not a regular file"}`]);
      expect(readdirSync(join(p.work, "fresh")).filter((n) => n.startsWith(".imgb-"))).toEqual([]);
      const up = await provisionCalls([call("comm_upload_dir", { src: join(p.work, "tree"), dest: join(p.remote, "up") })]);
      expect(up.ui.lines).toEqual([`say: comm_upload_dir {"error":"comm_upload_dir: local: ${join(p.work, "tree", "fifo")} is not a regular file"}`]);
    } finally {
      p.cleanup();
    }
  }, 30_000);

  test("comm_upload reads the very file it checked: a FIFO is refused, a link flipped after the check uploads nothing from outside", async () => {
    const p = playground();
    const fifo = join(p.work, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    mkdirSync(join(p.work, "real"));
    writeFileSync(join(p.work, "real", "secret"), "inside");
    symlinkSync("real", join(p.work, "d"));
    // work/d flips between work/real (granted) and the victim folder outside every grant.
    const flip = `const fs=require("node:fs");const [d,a,b]=process.argv.slice(1);for(let i=0;;i++){fs.symlinkSync(i%2?a:b,d+".t");fs.renameSync(d+".t",d);}`;
    const flipper = Bun.spawn([process.execPath, "-e", flip, join(p.work, "d"), "real", p.outside], { stdout: "ignore", stderr: "ignore" });
    try {
      const fifoCall = await provisionCalls([call("comm_upload", { dest: join(p.remote, "from-fifo"), src: { path: fifo } })]);
      // Before, the local communicator waited on the FIFO for ever.
      expect(fifoCall.error).toBe(`plugin probe: comm_upload refused: ${JSON.stringify(fifo)} is not a regular file`);
      await Bun.sleep(100);
      const calls = Array.from({ length: 300 }, (_, i) => call("comm_upload", { dest: join(p.remote, `up-${i}`), src: { path: join(p.work, "d", "secret") } }));
      const r = await provisionCalls(calls);
      expect(r.error).toStartWith("plugin probe: ");
      flipper.kill();
      await flipper.exited;
      rmSync(join(p.work, "d"), { force: true });
      expectContained(p, r.ui.lines);
    } finally {
      flipper.kill();
      p.cleanup();
    }
  }, 60_000);

  test("no host function makes a set-user-ID, set-group-ID or sticky file on this host", async () => {
    const p = playground();
    try {
      const data_base64 = Buffer.from("#!/bin/sh\n").toString("base64");
      const cases: Array<[string, JsonObject]> = [
        ["artifact_write", { path: join(p.work, "a"), data_base64, mode: 0o4755 }],
        ["local_file_write", { path: join(p.work, "b"), data_base64, mode: 0o2755 }],
        ["output_file_append", { path: join(p.work, "c"), data_base64, mode: 0o4755 }],
        ["output_file_swap", { path: join(p.work, "d"), expect_sha256: null, data_base64, mode: 0o4755 }],
        ["artifact_create", { path: join(p.work, "e"), mode: 0o1777 }],
        ["temp_file", { data_base64, mode: 0o4755 }],
      ];
      for (const [fn, req] of cases) {
        const r = await forge(["artifact_read", "artifact_write", "local_file_write", "temp_file"], { calls: [call(fn, req)] }, p.work);
        // Before, each made the file with its set-ID or sticky bit.
        expect(r.error).toBe(`plugin acme/forger: host call ${fn}: malformed request at mode: is not a permission mode (0 to 0o777: no set-ID or sticky bits on this host)`);
      }
      for (const n of ["a", "b", "c", "d", "e"]) expect(existsSync(join(p.work, n))).toBe(false);
    } finally {
      p.cleanup();
    }
  }, 30_000);

  test("post-processor functions (local_file_write, artifact_read/write, hash_files, compress_files, files_stat, output_file_*)", async () => {
    const p = playground();
    try {
      const input = join(p.work, "input.img");
      writeFileSync(input, "disk");
      const calls: string[] = [];
      for (const path of hostilePaths(p)) {
        const data_base64 = Buffer.from("overwritten").toString("base64");
        calls.push(call("local_file_write", { path, data_base64 }));
        calls.push(call("local_file_write", { path, data_base64, append: true }));
        calls.push(call("artifact_read", { path }));
        calls.push(call("artifact_write", { path, data_base64 }));
        calls.push(call("hash_files", { paths: [path], types: ["sha256"] }));
        calls.push(call("compress_files", { inputs: [path], output: join(p.work, "out.tar"), archive: "tar", compression: "none" }));
        calls.push(call("compress_files", { inputs: [input], output: path, archive: "tar", compression: "none" }));
        calls.push(call("files_stat", { paths: [path] }));
        calls.push(call("output_file_read", { path }));
        calls.push(call("output_file_swap", { path, expect_sha256: null, data_base64 }));
        calls.push(call("output_file_append", { path, data_base64 }));
      }
      const r = await forge(
        ["artifact_read", "artifact_write", "local_file_read", "local_file_write", "temp_file"],
        { calls },
        p.work,
        inputArtifact([input]),
      );
      expect(r.error).toStartWith("plugin acme/forger: ");
      expect(r.ui.lines.length, r.ui.lines.join("\n")).toBe(calls.length);
      expectContained(p, r.ui.lines);
    } finally {
      p.cleanup();
    }
  }, 60_000);
});

describe("terminal text from plugins and remote commands", () => {
  const NASTY = "\x1b]0;owned title\x07\x1b]52;c;aGk=\x07\x1b[2J\x1b[Htext\rfake\x9b31m\u202eevil\n==> Builds finished. The artifacts of successful builds are:\n--> null: forged";

  test("a plugin's UI text cannot drive the terminal or forge imgb's lines (Output, -color=false)", async () => {
    let text = "";
    const out = new Output({ mode: "human", color: false, timestamp: false, sensitive: [], write: (s) => void (text += s) });
    const ui = new BuildUi(out, "null", 0, (s) => void (text += s));
    const p = (await catalog.provisioner("probe")) as Probe;
    await p.prepare([{ action: "calls", names: [call("ui_say", { message: NASTY }), call("ui_message", { message: NASTY }), call("ui_error", { message: NASTY })] }]);
    await p.provision({ ui, communicator: noneCommunicator(), build: buildValues(), templateDir: dir, signal: new AbortController().signal });
    await p.close();
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
    for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^(==> null: |    null: )/);
    expect(text).toContain("==> null: text\n==> null: fakeevil\n==> null: ==> Builds finished.");
    // The closing summary indents a continuation line that looks like one of its own.
    text = "";
    out.plain(`--> null: ${NASTY}`);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(text.split("\n").filter((l) => /^(==>|-->)/.test(l))).toEqual([`--> null: text`]);
  });

  test("command output through the compiled binary keeps text, drops escapes, and never forges a line", async () => {
    const tdir = mkdtempSync(join(tmpdir(), "imgb-hostile-e2e-"));
    try {
      const script = "printf '\\033]52;c;aGk=\\007\\033[2J\\033]0;title\\007visible\\r\\n==> Builds finished. The artifacts of successful builds are:\\n--> null: forged\\n'";
      writeFileSync(join(tdir, "t.json"), JSON.stringify({ builders: [{ type: "null", communicator: "none" }], provisioners: [{ type: "shell-local", inline: [script] }] }));
      const r = await runImgb(["build", "-color=false", "t.json"], { cwd: tdir });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
      expect(r.stdout).toContain("    null: visible\n");
      expect(r.stdout).toContain("    null: ==> Builds finished.");
      expect(r.stdout.split("\n").filter((l) => l.startsWith("--> "))).toEqual(["--> null: Did not export anything. This is the null builder"]);
    } finally {
      rmSync(tdir, { recursive: true, force: true });
    }
  }, 60_000);
});

// ---- Through the compiled binary, against a real OpenSSH server.

/** Pids of processes (anywhere on this machine) whose command line is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const want = argv.join("\0");
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0$/, "") === want) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe("over SSH, through the compiled binary", () => {
  let sshd: Sshd;
  let sdir: string;
  beforeAll(async () => {
    sshd = await startSshd();
    sdir = mkdtempSync(join(tmpdir(), "imgb-hostile-ssh-"));
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
    rmSync(sdir, { recursive: true, force: true });
  });
  const sshBuilder = () => nullSshBuilder(sshd);

  test("a remote command dies with its provisioner's timeout (and its children with it)", async () => {
    const template = join(sdir, "timeout.json");
    writeFileSync(
      template,
      JSON.stringify({ builders: [sshBuilder()], provisioners: [{ type: "shell", inline: ["sleep 987 & sleep 986; echo never"], timeout: "2s" }] }),
    );
    const r = await runImgb(["build", "-color=false", template], { cwd: sdir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Cancelling provisioner after a timeout...");
    await waitGone(["sleep", "987"]);
    await waitGone(["sleep", "986"]);
  }, 60_000);

  test("a remote command dies on Ctrl-C", async () => {
    const template = join(sdir, "interrupt.json");
    writeFileSync(template, JSON.stringify({ builders: [sshBuilder()], provisioners: [{ type: "shell", inline: ["sleep 985 & sleep 984"] }] }));
    const proc = Bun.spawn([requireBinary(), "build", "-color=false", template], { cwd: sdir, stdout: "pipe", stderr: "pipe" });
    const deadline = Date.now() + 30_000;
    while (processesRunning(["sleep", "984"]).length === 0 && Date.now() < deadline) await Bun.sleep(50);
    expect(processesRunning(["sleep", "984"]).length).toBe(1);
    proc.kill("SIGINT");
    const code = await proc.exited;
    expect(code).not.toBe(0);
    await waitGone(["sleep", "985"]);
    await waitGone(["sleep", "984"]);
  }, 60_000);

  test("run from /, a file outside the template folder needs -allow-path, which is shown", async () => {
    const tdir = mkdtempSync(join(tmpdir(), "imgb-hostile-allow-"));
    try {
      const template = join(tdir, "t.json");
      const dest = `${sshd.remoteDir}/hostname`;
      writeFileSync(template, JSON.stringify({ builders: [sshBuilder()], provisioners: [{ type: "file", source: "/etc/hostname", destination: dest }] }));
      const refused = await runImgb(["build", "-color=false", template], { cwd: "/" });
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout + refused.stderr).toContain(
        'plugin file: capability local_file_read refused for "/etc/hostname": outside the template directory (the working directory / is too broad to grant: the file system root, a top-level folder or the home folder; grant a folder with -allow-path)',
      );
      expect(existsSync(dest)).toBe(false);
      const allowed = await runImgb(["build", "-color=false", "-allow-path", "/etc", template], { cwd: "/" });
      expect(allowed.exitCode, allowed.stdout + allowed.stderr).toBe(0);
      expect(allowed.stdout).toContain("==> Plugins may also read (-allow-path): /etc\n");
      expect(readFileSync(dest, "utf8")).toBe(readFileSync("/etc/hostname", "utf8"));
      const bad = await runImgb(["validate", "-allow-path", "/no/such/folder", template], { cwd: tdir });
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toBe("Error: -allow-path /no/such/folder: no such file or folder\n");
    } finally {
      rmSync(tdir, { recursive: true, force: true });
    }
  }, 60_000);
});

async function waitGone(argv: string[], ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (processesRunning(argv).length > 0 && Date.now() < deadline) await Bun.sleep(50);
  expect(processesRunning(argv)).toEqual([]);
}

// ---- What loading a module may cost (docs/plugin-abi.md §6).

describe("module load bounds", () => {
  test("a module over the size limit, or with too much data, is refused before any process starts", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    // A custom section (id 0, name "pad") of 17 MiB.
    const pad = new Uint8Array(17 * 2 ** 20);
    pad.set([3, 0x70, 0x61, 0x64]);
    const t0 = performance.now();
    await expect(cat.registerWasm(wasmModule([[0, pad]]), [], "installed", "big.wasm")).rejects.toThrow("plugin big.wasm: module is 17 MiB, over the limit of 16 MiB");
    // One memory (min 1 page) and a 9 MiB passive data segment (flag 1).
    // count 1, flag 1 (passive), size as a 5-byte LEB128, then the bytes.
    const size = 9 * 2 ** 20;
    const seg = new Uint8Array(7 + size);
    seg.set([1, 1, 0x80 | (size & 0x7f), 0x80 | ((size >> 7) & 0x7f), 0x80 | ((size >> 14) & 0x7f), 0x80 | ((size >> 21) & 0x7f), (size >> 28) & 0x7f]);
    await expect(cat.registerWasm(wasmModule([[5, [1, 0, 1]], [11, seg]]), [], "installed", "data.wasm")).rejects.toThrow(
      "plugin data.wasm: module's data segments are 9 MiB, over the limit of 8 MiB",
    );
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(cat.sandboxPids()).toEqual([]);
    await cat.closeAll();
  });

  test("a module of a million functions is refused before any process starts (its load took 280 MiB outside the memory limit)", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    const n = 1_000_000;
    const count = [0x80 | (n & 0x7f), 0x80 | ((n >> 7) & 0x7f), (n >> 14) & 0x7f];
    // type () -> i32; n functions of that type; n bodies `i32.const 0`.
    const funcs = new Uint8Array(3 + n);
    funcs.set(count);
    const code = new Uint8Array(3 + 5 * n);
    code.set(count);
    for (let i = 0; i < n; i++) code.set([4, 0, 0x41, 0, 0x0b], 3 + 5 * i);
    const t0 = performance.now();
    await expect(cat.registerWasm(wasmModule([[1, [1, 0x60, 0, 1, 0x7f]], [3, funcs], [5, [1, 0, 1]], [10, code]]), [], "installed", "many.wasm")).rejects.toThrow(
      "plugin many.wasm: module has 1000000 functions, over the limit of 100000",
    );
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(cat.sandboxPids()).toEqual([]);
    await cat.closeAll();
  });

  test("a module with GC types (arrays, structs: memory outside the linear memory, 480 MiB in 0.4 s here) is refused", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    // type 0: (array (mut i8)); one memory.
    await expect(cat.registerWasm(wasmModule([[1, [1, 0x5e, 0x78, 0x01]], [5, [1, 0, 1]]]), [], "installed", "gc.wasm")).rejects.toThrow(
      "plugin gc.wasm: module has a type that is not a function type",
    );
    expect(cat.sandboxPids()).toEqual([]);
    await cat.closeAll();
  });

  test("a module that loops while loading is stopped at the short load-time limit, not the CPU limit of a call", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: { ...LIMITS, cpuMsPerCall: 10_000, loadMs: 500 } });
    // type ()->(), one function `loop br 0 end`, and it is the start function.
    const looping = wasmModule([
      [1, [1, 0x60, 0, 0]],
      [3, [1, 0]],
      [8, [0]],
      [10, [1, 7, 0, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]],
    ]);
    const t0 = performance.now();
    await expect(cat.registerWasm(looping, [], "installed", "spin.wasm")).rejects.toThrow("plugin spin.wasm: exceeded its load time limit of 500 ms");
    const ms = performance.now() - t0;
    // 0.5 s of the module's own CPU time (longer by the clock on a busy machine), not a call's 10 s.
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(10_000);
    expect(cat.sandboxPids()).toEqual([]);
    await cat.closeAll();
  }, 30_000);

  test("a loop in _start, _initialize or hs_init is stopped at the load-time limit too", async () => {
    for (const name of ["_start", "_initialize", "hs_init"]) {
      const cat = createPluginCatalog({ embedded: false, limits: { ...LIMITS, cpuMsPerCall: 10_000, loadMs: 300 } });
      const looping = wasmModule([
        [1, [1, 0x60, 0, 0]],
        [3, [1, 0]],
        [7, [1, name.length, ...Buffer.from(name), 0, 0]],
        [10, [1, 7, 0, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]],
      ]);
      await expect(cat.registerWasm(looping, [], "installed", `${name}.wasm`)).rejects.toThrow(`plugin ${name}.wasm: exceeded its load time limit of 300 ms`);
      expect(cat.sandboxPids()).toEqual([]);
      await cat.closeAll();
    }
  }, 60_000);

  test("a command loads only the installed plugins its template uses", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    const looping = wasmModule([[1, [1, 0x60, 0, 0]], [3, [1, 0]], [8, [0]], [10, [1, 7, 0, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]]]);
    const t0 = performance.now();
    cat.registerUnloaded("acme/spin", looping, [], "acme/spin@1.0.0");
    cat.registerUnloaded("acme/probe", probe, PROBE_CAPS, "acme/probe@1.0.0");
    expect(performance.now() - t0).toBeLessThan(100);
    expect(cat.sandboxPids()).toEqual([]);
    expect(cat.has("provisioner", "acme/spin")).toBe(true);
    await expect(cat.provisioner("acme/probe")).rejects.toThrow('plugin acme/probe@1.0.0: the module describes itself as "probe", not "acme/probe"; refusing to load it');
    await cat.closeAll();
  }, 30_000);
});

describe("commands in a container", () => {
  test("a command aborted (timeout, Ctrl-C) is killed inside the container with its whole process group", async () => {
    const image = await podmanBaseImage();
    const run = Bun.spawnSync(["podman", "run", "-d", "--rm", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000", image, "sleep", "300"]);
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    const cid = run.stdout.toString().trim();
    try {
      const comm = containerCommunicator({ containerId: cid });
      const inside = () => Bun.spawnSync(["podman", "top", cid, "args"]).stdout.toString();
      const started = performance.now();
      await expect(comm.start({ command: "sleep 983 & sleep 982; echo never" }, AbortSignal.timeout(1500))).rejects.toThrow("command cancelled");
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(inside()).toContain("sleep 300");
      expect(inside()).not.toContain("sleep 98");
      // A command that ends by itself is untouched by the marking: output, status and stdin as before.
      let out = "";
      const r = await comm.start({ command: 'read x; echo "got $x $0"; exit 3', stdin: new TextEncoder().encode("hi\n"), onStdout: (c) => void (out += new TextDecoder().decode(c)) }, new AbortController().signal);
      expect(r).toEqual({ kind: "exited", exitStatus: 3 });
      expect(out).toStartWith("got hi imgb-command-");
    } finally {
      Bun.spawnSync(["podman", "rm", "-f", "-t", "0", cid]);
    }
  }, 120_000);
});

describe("a forged artifact through the compiled binary (plugin installed from a registry)", () => {
  test("the chain stops at the forger: nothing archived, the host file not deleted; an unused installed plugin is never loaded", async () => {
    const reg = await makeRegistry();
    try {
      await reg.publish("acme/forger", "1.0.0", [], { wasm: await hostileBytes("forger") });
      // Locked too but not used by the template: it must never be loaded (it loops while loading).
      await reg.publish("acme/spin", "1.0.0", [], { wasm: wasmModule([[1, [1, 0x60, 0, 0]], [3, [1, 0]], [8, [0]], [10, [1, 7, 0, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]]]) });
      const env = { HOME: reg.base, XDG_CACHE_HOME: join(reg.base, "xdg-cache"), XDG_STATE_HOME: join(reg.base, "xdg-state"), XDG_CONFIG_HOME: join(reg.base, "xdg-config") };
      const client = { ...reg.client, cacheDir: join(env.XDG_CACHE_HOME, "imgb"), env };
      await initPlugins([required("acme/forger", "~> 1.0"), required("acme/spin", "~> 1.0")], reg.templateDir, { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: client });
      const secret = join(reg.base, "users-secret.txt");
      writeFileSync(secret, "keep me");
      const template = join(reg.templateDir, "t.json");
      writeFileSync(
        template,
        JSON.stringify({
          builders: [{ type: "null", communicator: "none" }],
          "post-processors": [[{ type: "acme/forger", files: [secret] }, { type: "compress", output: "out.tar.gz" }]],
        }),
      );
      const r = await runImgb(["build", "-color=false", template], { cwd: reg.templateDir, env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toContain(`plugin acme/forger: post_process returned an artifact file it could not have written: ${JSON.stringify(secret)}`);
      expect(readFileSync(secret, "utf8")).toBe("keep me");
      expect(existsSync(join(reg.templateDir, "out.tar.gz"))).toBe(false);
      // A template using neither installed plugin validates without loading either.
      const plain = join(reg.templateDir, "plain.json");
      writeFileSync(plain, JSON.stringify({ builders: [{ type: "null", communicator: "none" }], provisioners: [{ type: "shell-local", inline: ["true"] }] }));
      const t0 = performance.now();
      const v = await runImgb(["validate", plain], { cwd: reg.templateDir, env });
      expect(v.exitCode, v.stdout + v.stderr).toBe(0);
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      await reg.close();
    }
  }, 60_000);
});
