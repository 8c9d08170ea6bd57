// The host-function table (core/plugin/host/table.ts) is the one source of the SDK's imports, its
// raw calls, the ABI document's function table, and the gate's rules for every function, streaming
// ones included.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HOST_FUNCTION_NAMES, HOST_FUNCTION_TABLE, KNOWN_CAPABILITIES, capabilitiesOf, type HostFunction } from "../../core/plugin/host/table.ts";
import { handleHostCall } from "../../core/plugin/host/gate.ts";
import { TokenBucket, type CallPhase, type HostCallContext } from "../../core/plugin/host/context.ts";
import { DEFAULT_LIMITS } from "../../core/plugin/limits.ts";
import { undeclaredImport } from "../../core/plugin/sandbox/import-capabilities.ts";
import { derivedFiles, SDK_EXTERNALS } from "../../scripts/host-functions.ts";

const REPO = join(import.meta.dir, "../..");

function assemblySources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules" && e.name !== "dist") out.push(...assemblySources(p));
    else if (e.isFile() && p.endsWith(".ts") && p.includes("/assembly/")) out.push(p);
  }
  return out;
}

describe("derived from the table", () => {
  test("the SDK's externals.ts and calls.ts and docs/plugin-abi.md's function table are up to date", () => {
    for (const f of derivedFiles()) {
      expect({ path: f.path, stale: f.have !== f.want }).toEqual({ path: f.path, stale: false });
    }
  });

  test("the SDK and first-party plugins declare host functions only through externals.ts", () => {
    const stray: string[] = [];
    for (const file of assemblySources(join(REPO, "plugins-wasm"))) {
      if (file === SDK_EXTERNALS) continue;
      if (/@external\("extism:host\/user"/.test(readFileSync(file, "utf8"))) stray.push(file);
    }
    expect(stray).toEqual([]);
    const declared = [...readFileSync(SDK_EXTERNALS, "utf8").matchAll(/@external\("extism:host\/user", "([a-z_]+)"\)/g)].map((m) => m[1]);
    expect(declared).toEqual(HOST_FUNCTION_NAMES);
  });

  test("every capability is one the registry knows and some function needs; pure functions need none", () => {
    const used = new Set<string>();
    for (const name of HOST_FUNCTION_NAMES) {
      const e: HostFunction = HOST_FUNCTION_TABLE[name];
      for (const c of e.capabilities) used.add(c);
      if (e.pure) expect({ name, capabilities: e.capabilities }).toEqual({ name, capabilities: [] });
    }
    expect([...used].sort()).toEqual([...KNOWN_CAPABILITIES].sort());
  });

  test("the load-time import check asks for every capability a function needs", () => {
    expect(capabilitiesOf("compress_files")).toEqual(["artifact_read", "artifact_write"]);
    expect(undeclaredImport(["extism:host/user.compress_files"], ["artifact_read"])).toBe(
      "the module imports host function compress_files, which needs capability artifact_write, but describe does not declare it",
    );
    expect(undeclaredImport(["extism:host/user.artifact_pwrite"], [])).toContain("needs capability artifact_write");
    expect(undeclaredImport(["extism:host/user.ui_say", "extism:host/user.block_read"], [])).toBeNull();
  });
});

function context(phase: CallPhase, granted: string[]): HostCallContext {
  return {
    plugin: "acme/t",
    phase,
    granted: new Set(granted),
    limits: DEFAULT_LIMITS,
    signal: new AbortController().signal,
    ui_bucket: new TokenBucket(DEFAULT_LIMITS.uiBurst, DEFAULT_LIMITS.uiPerSecond),
    refusal: null,
    lastError: null,
    pluginError: null,
    progress: new Map(),
    progressIds: 0,
  };
}

describe("one gate for every function", () => {
  test("streaming and plain functions are refused alike outside run, without a grant, and on a malformed request; refusals stick", async () => {
    const cases: Array<[CallPhase, string[], string, string, string]> = [
      ["prepare", ["artifact_read", "artifact_write"], "compress_files", "{}", "capability artifact_read refused during prepare: prepare must have no side effects"],
      ["describe", ["communicator"], "comm_start", "{}", "capability communicator refused during describe: describe must have no side effects"],
      ["prepare", [], "sleep", '{"ms":1}', "host function sleep refused during prepare: prepare must have no side effects"],
      ["run", ["artifact_read"], "compress_files", "{}", "capability artifact_write refused: not granted to this plugin (compress_files)"],
      ["run", [], "local_file_read", "{}", "capability local_file_read refused: not granted to this plugin (local_file_read)"],
      ["run", ["artifact_read"], "hash_files", "not json", "host call hash_files: request is not JSON"],
      ["run", ["artifact_read"], "hash_files", '{"paths":["a"],"types":["crc"]}', "host call hash_files: malformed request at types.0: Invalid type: Expected (\"md5\" | \"sha1\" | \"sha224\" | \"sha256\" | \"sha384\" | \"sha512\") but received \"crc\""],
      ["run", [], "launch_missiles", "{}", "unknown host function launch_missiles"],
      ["run", [], "block_read", "{}", "unknown host function block_read"],
    ];
    for (const [phase, granted, fn, payload, message] of cases) {
      const ctx = context(phase, granted);
      expect({ fn, reply: JSON.parse(await handleHostCall(ctx, fn, payload)) }).toEqual({ fn, reply: { error: message } });
      expect(ctx.refusal).toBe(message);
    }
  });

  test("pure functions pass in describe and prepare; a plain failure does not stick", async () => {
    const ctx = context("prepare", []);
    const rendered: unknown = JSON.parse(await handleHostCall(ctx, "template_render", '{"template":"x{{ .A }}","data":{"A":"y"}}'));
    expect(rendered).toEqual({ result: "xy" });
    expect(v.is(HOST_FUNCTION_TABLE.template_render.reply, rendered)).toBe(true);
    const run = context("run", ["artifact_read"]);
    const reply = JSON.parse(await handleHostCall({ ...run, outputDir: "/nonexistent-imgb-test" }, "output_file_read", '{"path":"/nonexistent-imgb-test/m.json"}'));
    expect(reply).toEqual({ exists: false, data_base64: "", sha256: null, now_unix: expect.any(Number) });
    expect(v.is(HOST_FUNCTION_TABLE.output_file_read.reply, reply)).toBe(true);
    expect(run.refusal).toBeNull();
  });
});
