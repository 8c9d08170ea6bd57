// The hostile suite's C plugin (tests/plugin/hostile/c/attacker.c: clang + lld, no libc, no SDK,
// written against docs/plugin-abi.md alone) and Rust module (tests/plugin/hostile/rust/loader.rs:
// rustc, std, no crates) run through the real sandbox: loading, the Extism kernel with
// addresses that are not blocks, tables as unbounded memory, byte handles through hard links, FIFOs and
// a link swapped in between the host's check and the open.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPluginCatalog } from "../../core/plugin/catalog.ts";
import { loadTemplate } from "../../core/template/load.ts";
import { runBuilds } from "../../core/engine/run.ts";
import { ComponentPipeline } from "../../core/engine/components.ts";
import { Output } from "../../core/ui/output.ts";
import { BuildUi } from "../../core/ui/build-ui.ts";
import { renderDiagnostics } from "../../core/ui/diagnostics.ts";
import type { Artifact } from "../../core/engine/artifact.ts";
import type { JsonObject } from "../../core/values/json.ts";
import { hostileC, hostileRust } from "./hostile/c/build.ts";
import { TABLE_ENTRIES_LIMIT } from "../../core/plugin/sandbox/module-check.ts";
import { RecordingUi, buildValues, expectGone, sandboxChildren } from "./support.ts";

const LIMITS = { cpuMsPerCall: 3000, memoryBytes: 16 * 2 ** 20, messageBytes: 1 * 2 ** 20, abortGraceMs: 300 };
const SECRET = "SECRET-imgb-hostile-c";

let attacker: Uint8Array;
let root: string;
let out: string;
let outside: string;

beforeAll(() => {
  attacker = hostileC("attacker");
  root = mkdtempSync(join(tmpdir(), "imgb-hostile-c-"));
  out = join(root, "out");
  outside = join(root, "outside");
  mkdirSync(out);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), SECRET);
  writeFileSync(join(out, "in.txt"), "inside");
}, 60_000);

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await expectGone(sandboxChildren());
});

const input: Artifact = { builderId: "test.input", id: "in", files: [], string: "input", state: {}, destroy: async () => {} };

/** One post_process call of the attacker with `config`; the error (or null) and what it said. */
async function attack(
  config: JsonObject,
  ms = 10_000,
  build = buildValues(),
  granted = ["artifact_read", "artifact_write"],
): Promise<{ error: string | null; lines: string[]; artifact?: string }> {
  const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
  try {
    await cat.registerWasm(attacker, granted, "installed", "attacker.wasm");
    const pp = await cat.postProcessor("acme/attacker");
    expect((await pp.configure([config])).diagnostics).toEqual([]);
    const ui = new RecordingUi();
    // A call that hangs is a finding too: it ends here, not at the test's time limit.
    const signal = AbortSignal.timeout(ms);
    try {
      const r = await pp.postProcess({ ui, build, templateDir: out, signal, outputDir: out }, input);
      return { error: null, lines: ui.lines, artifact: r.artifact.string };
    } catch (e) {
      return { error: (e as Error).message, lines: ui.lines };
    }
  } finally {
    await cat.closeAll();
  }
}

describe("loading (Rust)", () => {
  test("a spin in _initialize or _start is killed at the load-time limit; a 12 MiB data segment never gets a process", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: { ...LIMITS, loadMs: 500 } });
    try {
      expect((await cat.registerWasm(hostileRust("loader"), [], "installed", "loader.wasm")).name).toBe("acme/loader");
      for (const cfg of ["initialize", "start"]) {
        const t0 = performance.now();
        await expect(cat.registerWasm(hostileRust("loader", [cfg]), [], "installed", `loader-${cfg}.wasm`)).rejects.toThrow(
          `plugin loader-${cfg}.wasm: exceeded its load time limit of 500 ms`,
        );
        expect(performance.now() - t0).toBeLessThan(2500);
      }
      await expect(cat.registerWasm(hostileRust("loader", ["big_data"]), [], "installed", "loader-big.wasm")).rejects.toThrow(
        "plugin loader-big.wasm: module's data segments are 12 MiB, over the limit of 8 MiB",
      );
      expect(cat.sandboxPids()).toEqual([]);
    } finally {
      await cat.closeAll();
    }
  }, 60_000);
});

describe("the Extism kernel with addresses that are not blocks", () => {
  test("double free, freeing non-blocks and Extism's input block leave the kernel working", async () => {
    const r = await attack({ action: "free_bogus" });
    expect(r.error).toBeNull();
    expect(r.lines).toEqual(["say: still works"]);
  });

  test("reads, writes and copies outside a block or the linear memory fail the call, naming the function", async () => {
    const cases: Array<[string, string]> = [
      ["load_past_block", "plugin acme/attacker: load_u8: address 0x400000000000003 is outside its memory block"],
      ["store_past_block", "plugin acme/attacker: store_u64: address 0x400000000000001 is outside its memory block"],
      ["block_read_past_memory", "plugin acme/attacker: block_read: bytes -4..4 are outside the plugin's memory"],
      ["block_write_wrap", "plugin acme/attacker: block_write: bytes 16..8 are outside the plugin's memory"],
      ["output_set_long", "plugin acme/attacker: output_set: address 0x400000000000000 is outside its memory block"],
      ["alloc_huge", "plugin acme/attacker: host memory blocks would hold 92233720368547"],
      ["alloc_negative", "plugin acme/attacker: alloc: -1 bytes is not a size"],
      ["alloc_many", "plugin acme/attacker: host memory blocks would hold 17825792 bytes, over the limit of 16777216"],
      ["recurse", "plugin acme/attacker: trapped: Maximum call stack size exceeded."],
    ];
    for (const [action, message] of cases) {
      const r = await attack({ action });
      expect(r.error, action).toStartWith(message);
    }
  }, 30_000);
});

describe("memory the linear-memory limit does not count", () => {
  test("table.grow stops at the table budget (it reached 10 million entries, 650 MB, under a 16 MiB limit)", async () => {
    const r = await attack({ action: "table_grow" });
    // It grows 4,096 entries at a time from its own size (a few entries: the functions it calls through pointers).
    const grew = Number(/^plugin acme\/attacker: table grew to (\d+)$/.exec(r.error ?? "")?.[1]);
    expect(grew).toBeLessThanOrEqual(TABLE_ENTRIES_LIMIT);
    expect(grew).toBeGreaterThan(TABLE_ENTRIES_LIMIT - 4096);
  });
});

describe("byte handles (artifact_open / artifact_create): the file opened is the file checked", () => {
  test("artifact_create never writes through a hard link to a file outside the grants", async () => {
    const victim = join(outside, "hardlinked");
    writeFileSync(victim, "VICTIM");
    linkSync(victim, join(out, "hard"));
    const r = await attack({ action: "create", path: join(out, "hard") });
    // Before: the file outside the grants read "PWNED".
    expect(readFileSync(victim, "utf8")).toBe("VICTIM");
    expect(r.error).toBe(`plugin acme/attacker: artifact_create refused: ${JSON.stringify(join(out, "hard"))} has other hard links; imgb does not write through links`);
  });

  test("a FIFO is refused at once, for reading and writing (it hung the call, and a host thread, until aborted)", async () => {
    const fifo = join(out, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    for (const action of ["open", "create"]) {
      const t0 = performance.now();
      const r = await attack({ action, path: fifo }, 5000);
      expect(r.error).toBe(`plugin acme/attacker: artifact_${action} refused: ${JSON.stringify(fifo)} is not a regular file`);
      expect(performance.now() - t0).toBeLessThan(3000);
    }
  }, 20_000);

  test("handles never closed stop at 1,024 (each is a descriptor of the sandbox process)", async () => {
    const r = await attack({ action: "open_many", path: join(out, "in.txt"), count: 5000 });
    expect(r.error).toBe("plugin acme/attacker: artifact_open: the plugin holds 1024 byte handles at once, the limit: close them (artifact_close) after use");
    expect(r.lines).toEqual([]);
  }, 20_000);

  test("a link swapped in between the host's check and the open never carries a read outside the grants", async () => {
    // out/d flips between out/real (granted) and the folder outside, as fast as a process can flip it,
    // while the plugin opens out/d/f 2,000 times. Before, 757 of 3,000 opens read the file outside.
    mkdirSync(join(out, "real"));
    writeFileSync(join(out, "real", "f"), "inside");
    writeFileSync(join(outside, "f"), SECRET);
    symlinkSync("real", join(out, "d"));
    const flip = `const fs=require("node:fs");const [d,a,b]=process.argv.slice(1);for(let i=0;;i++){fs.symlinkSync(i%2?a:b,d+".t");fs.renameSync(d+".t",d);}`;
    const flipper = Bun.spawn([process.execPath, "-e", flip, join(out, "d"), "real", outside], { stdout: "ignore", stderr: "ignore" });
    try {
      await Bun.sleep(100);
      const r = await attack({ action: "open_loop", path: join(out, "d", "f"), count: 2000 });
      expect(r.lines.filter((l) => l.includes(SECRET))).toEqual([]);
      expect(r.error).toMatch(/^plugin acme\/attacker: (capability artifact_read refused for .*: outside the output directory|artifact_open refused: .* changed between the grant check and the open \(a link was swapped in\))$/);
    } finally {
      flipper.kill();
      await flipper.exited;
    }
    // The folder itself swapped for a link (a component of the resolved path): caught by the open's own check.
    const swap = `const fs=require("node:fs");const [d,v]=process.argv.slice(1);for(;;){fs.renameSync(d,d+".bak");fs.symlinkSync(v,d);fs.unlinkSync(d);fs.renameSync(d+".bak",d);}`;
    const swapper = Bun.spawn([process.execPath, "-e", swap, join(out, "real"), outside], { stdout: "ignore", stderr: "ignore" });
    try {
      await Bun.sleep(100);
      const r = await attack({ action: "open_loop", path: join(out, "real", "f"), count: 2000 });
      expect(r.lines.filter((l) => l.includes(SECRET))).toEqual([]);
      expect(r.error).not.toBeNull();
    } finally {
      swapper.kill();
      await swapper.exited;
    }
  }, 30_000);
});

describe("the host's own readers (hash_files, compress_files)", () => {
  test("hash_files and output_file_read refuse a FIFO at once (each hung the call until aborted)", async () => {
    const fifo = join(out, "fifo-hash");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const r = await attack({ action: "hash", path: fifo }, 5000);
    expect(r.error).toBe(`plugin acme/attacker: hash_files refused: ${JSON.stringify(fifo)} is not a regular file`);
    const o = await attack({ action: "read_output", path: fifo }, 5000);
    expect(o.error).toBe(`plugin acme/attacker: output_file_read refused: ${JSON.stringify(fifo)} is not a regular file`);
  }, 20_000);

  test("compress_files never archives a file outside the grants through a link swapped in after the check", async () => {
    mkdirSync(join(out, "real2"));
    writeFileSync(join(out, "real2", "f"), "inside");
    writeFileSync(join(outside, "f"), SECRET);
    symlinkSync("real2", join(out, "d2"));
    const flip = `const fs=require("node:fs");const [d,a,b]=process.argv.slice(1);for(let i=0;;i++){fs.symlinkSync(i%2?a:b,d+".t");fs.renameSync(d+".t",d);}`;
    const flipper = Bun.spawn([process.execPath, "-e", flip, join(out, "d2"), "real2", outside], { stdout: "ignore", stderr: "ignore" });
    const archive = join(out, "leak.tar");
    try {
      await Bun.sleep(100);
      const r = await attack({ action: "compress_loop", path: join(out, "d2", "f"), output: archive, count: 300 });
      expect(r.lines.filter((l) => l.includes(SECRET))).toEqual([]);
    } finally {
      flipper.kill();
      await flipper.exited;
    }
    // Before, 108 of 300 archives the plugin read back held the file outside the grants.
    if (existsSync(archive)) expect(readFileSync(archive, "latin1")).not.toContain(SECRET);
  }, 30_000);
});

describe("information outside the grants", () => {
  test("a refusal never tells what exists outside the grants (dangling links and loops there were named)", async () => {
    symlinkSync(join(outside, "missing"), join(outside, "dangle"));
    symlinkSync(join(outside, "loopB"), join(outside, "loopA"));
    symlinkSync(join(outside, "loopA"), join(outside, "loopB"));
    const said: string[] = [];
    for (const name of ["dangle", "loopA", "nothing-here", "secret"]) {
      const r = await attack({ action: "open", path: join(outside, name) });
      said.push(r.error!.replace(JSON.stringify(join(outside, name)), "PATH"));
    }
    expect(new Set(said)).toEqual(new Set(["plugin acme/attacker: capability artifact_read refused for PATH: outside the output directory"]));
    // A glob over a folder above the grants: names outside them match as if absent (a refusal told
    // which existed: "outs*" was refused, "nothing*" was not).
    const stat = async (pattern: string) => (await attack({ action: "stat_glob", path: join(root, pattern) })).lines;
    expect(await stat("outs*")).toEqual(['say: files_stat: {"files":[]}']);
    expect(await stat("nothing*")).toEqual(['say: files_stat: {"files":[]}']);
    expect((await stat("o*"))[0]).toBe(`say: files_stat: {"files":[{"path":${JSON.stringify(out)},"exists":true,"size":${Bun.file(out).size},"is_file":false}]}`);
    // Inside a grant the reason stays specific: it is the user's own folder.
    symlinkSync(join(outside, "missing"), join(out, "dangle"));
    const inside = await attack({ action: "open", path: join(out, "dangle") });
    expect(inside.error).toBe(`plugin acme/attacker: capability artifact_read refused for ${JSON.stringify(join(out, "dangle"))}: ${JSON.stringify(join(out, "dangle"))} is a dangling symbolic link`);
  }, 20_000);
});

describe("template variables", () => {
  test("a plugin renders only the user variables its own configuration names (sensitive ones leaked to any plugin)", async () => {
    const template = join(root, "vars.json");
    writeFileSync(
      template,
      JSON.stringify({
        variables: { secret: "hunter2-imgb", used: "given-value" },
        "sensitive-variables": ["secret"],
        builders: [{ type: "null", communicator: "none" }],
        "post-processors": [{ type: "acme/attacker", action: "render", late_text: "{{user `used`}}" }],
      }),
    );
    const cat = createPluginCatalog({ limits: LIMITS });
    await cat.registerWasm(attacker, ["artifact_read", "artifact_write"], "installed", "attacker.wasm");
    const components = new ComponentPipeline(cat);
    let text = "";
    try {
      const t = await loadTemplate(template, { vars: [], varFiles: [], env: {} });
      // No masking here: a leak would show the value itself.
      const out = new Output({ mode: "human", color: false, timestamp: false, sensitive: [], write: (s) => void (text += s) });
      const r = await runBuilds({ template: t, catalog: cat, out, write: (s) => void (text += s), color: false, parallel: 0, onError: "cleanup", force: false, signal: new AbortController().signal, components, only: [], except: [] });
      expect(r.exitCode, text).toBe(0);
    } finally {
      await components.closeAll();
      await cat.closeAll();
    }
    const reversed = (s: string) => [...s].reverse().join("");
    // The plugin says what it rendered reversed: the output's masking cannot hide it, so this sees what the plugin got.
    expect(text).toContain(reversed("used=given-value"));
    expect(text).not.toContain(reversed("hunter2-imgb"));
  }, 30_000);
});

describe("machine credentials", () => {
  test("a plugin granted neither communicator nor local_exec never sees the build's password or private key", async () => {
    const build = buildValues({ generated: { Host: "10.0.0.7", User: "root", Password: "pw-imgb-secret", SSHPrivateKey: "-----BEGIN imgb KEY-----" } });
    for (const action of ["say_input", "render_key"]) {
      const r = await attack({ action }, 10_000, build);
      expect(r.error).toBeNull();
      const said = r.lines.join("\n");
      const reversed = [...said].reverse().join("");
      // Before, build.generated carried both and {{build `SSHPrivateKey`}} rendered the key.
      for (const text of [said, reversed]) {
        expect(text).not.toContain("pw-imgb-secret");
        expect(text).not.toContain("BEGIN imgb KEY");
      }
      expect(said).toContain(action === "say_input" ? '"Host":"10.0.0.7"' : 'say: render: {"result":"pw= key="}');
    }
  }, 20_000);
});

describe("host time", () => {
  test("a template_render that loops a billion times is stopped by its work budget (it held the host's one thread for 19 s)", async () => {
    const t0 = performance.now();
    const r = await attack({ action: "render_bomb" });
    expect(r.error).toBeNull();
    expect(r.lines).toEqual([
      'say: render: {"error":"template_render: the template goes over the limit of 33554432 units of work (characters and elements built, steps taken) for one template_render"}',
    ]);
    expect(performance.now() - t0).toBeLessThan(5000);
  }, 30_000);
});

describe("deeply nested JSON", () => {
  test("a request or an answer nested 200,000 levels deep is refused with the limit (a render of it overflowed the host's stack)", async () => {
    const req = await attack({ action: "deep_request", count: 200_000 });
    expect(req.lines).toEqual(['say: deep: {"error":"host call template_render: the request is nested more than 200 levels deep"}']);
    expect(req.error).toBe("plugin acme/attacker: host call template_render: the request is nested more than 200 levels deep");
    const ok = await attack({ action: "deep_request", count: 3 });
    expect(ok.lines).toEqual(['say: deep: {"result":"[[[]]] [[[]]] 1 [[]]"}']);
    const out = await attack({ action: "deep_output", count: 200_000 });
    expect(out.error).toBe("plugin acme/attacker: post_process answered a result that is nested more than 200 levels deep");
  }, 20_000);
});

describe("the terminal", () => {
  test("one ui_say of 100,000 lines is a UI flood; an 8 MB error and a 100,000-line artifact description are cut to 100 lines (each reached the terminal whole)", async () => {
    const flood = await attack({ action: "ui_lines", count: 100_000 });
    expect(flood.error).toBe("plugin acme/attacker: too many UI messages (limit 2000 at once, 500 a second)");
    expect(flood.lines.join("\n").split("\n").length).toBeLessThan(10);
    const few = await attack({ action: "ui_lines", count: 3 });
    expect(few.error).toBeNull();
    const described = await attack({ action: "artifact_lines", count: 100_000 });
    expect(described.artifact!.split("\n").length).toBe(100);
    const trapped = await attack({ action: "plugin_error_huge", count: 100_000 });
    expect(trapped.error!.split("\n").length).toBe(100);
    const big = await attack({ action: "error_huge", count: 8_000_000 });
    const lines = big.error!.split("\n");
    expect(lines.length).toBe(100);
    expect(lines.at(-1)).toMatch(/^A+… \(7992001 more characters, 99901 more lines\)$/);
  }, 20_000);

  test("a question (ui_ask) cannot forge imgb's lines either: every line carries the build's prefix", async () => {
    let text = "";
    const out = new Output({ mode: "human", color: false, timestamp: false, sensitive: [], write: (s) => void (text += s) });
    const ui = new BuildUi(out, "null", 0, (s) => void (text += s));
    // Without a terminal on stdin (the suite's case) the question is refused, quoting the prompt it
    // would have written; on a terminal it would wait for an answer, so it is not asked there.
    if (process.stdin.isTTY) return;
    const e = await ui.ask("Continue?\x1b]0;t\x07\n==> Builds finished. The artifacts of successful builds are:").catch((x: Error) => x);
    const prompt = (e as Error).message;
    expect(prompt).toContain("==> null: Continue?\n==> null: ==> Builds finished.");
    expect(prompt).not.toMatch(/\x1b/);
  });

  test("a configure warning can neither drive the terminal nor forge imgb's lines", async () => {
    const cat = createPluginCatalog({ embedded: false, limits: LIMITS });
    try {
      await cat.registerWasm(attacker, ["artifact_read", "artifact_write"], "installed", "attacker.wasm");
      const pp = await cat.postProcessor("acme/attacker");
      const r = await pp.configure([{ action: "warn_forge" }]);
      expect(r.diagnostics.map((d) => d.summary)).toEqual(["careful\x1b]0;title\x07\n==> Builds finished. The artifacts of successful builds are:"]);
      const text = renderDiagnostics(r.diagnostics);
      expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
      // Before: "==> Builds finished." stood at the start of a line.
      expect(text.split("\n").filter((l) => /^\s{0,3}(==>|-->)/.test(l))).toEqual([]);
      expect(text).toContain("Warning: careful\n    ==> Builds finished.");
    } finally {
      await cat.closeAll();
    }
  });
});
