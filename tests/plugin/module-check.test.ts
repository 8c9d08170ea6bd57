// The module checks before instantiation: the memory-section rewrite and the import allow-list, on
// hand-assembled modules (each byte below is the WebAssembly binary format).
import { describe, expect, test } from "bun:test";
import { ModuleRefused, capModuleMemory, checkImports } from "../../core/plugin/sandbox/module-check.ts";

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// export section: one export "memory" of memory 0
const EXPORT_MEMORY = [0x07, 0x0a, 0x01, 0x06, ...new TextEncoder().encode("memory"), 0x02, 0x00];

function moduleWithMemory(flags: number, min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [flags, min] : [flags, min, max];
  return Uint8Array.from([...HEADER, 0x05, limits.length + 1, 0x01, ...limits, ...EXPORT_MEMORY]);
}

function memoryOf(bytes: Uint8Array): WebAssembly.Memory {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.memory as WebAssembly.Memory;
}

describe("capModuleMemory", () => {
  test("a memory without a maximum gets the limit as maximum", () => {
    const mem = memoryOf(capModuleMemory(moduleWithMemory(0, 1), 4));
    expect(mem.buffer.byteLength).toBe(65536);
    mem.grow(3);
    expect(() => mem.grow(1)).toThrow();
  });

  test("a larger declared maximum is clamped; a smaller one is kept", () => {
    const clamped = memoryOf(capModuleMemory(moduleWithMemory(1, 1, 100), 4));
    expect(() => clamped.grow(4)).toThrow();
    const kept = memoryOf(capModuleMemory(moduleWithMemory(1, 1, 2), 4));
    kept.grow(1);
    expect(() => kept.grow(1)).toThrow();
  });

  test("a minimum over the limit, shared memories and non-modules are refused", () => {
    expect(() => capModuleMemory(moduleWithMemory(0, 8), 4)).toThrow(ModuleRefused);
    expect(() => capModuleMemory(moduleWithMemory(0, 8), 4)).toThrow("needs 0.5 MiB of memory at start, over the limit of 0.25 MiB");
    expect(() => capModuleMemory(moduleWithMemory(3, 1, 2), 4)).toThrow("shared or 64-bit memory");
    expect(() => capModuleMemory(new TextEncoder().encode("#!/bin/sh\n"), 4)).toThrow("not a WebAssembly module");
  });

  test("other sections are copied unchanged", () => {
    const bytes = Uint8Array.from([...HEADER, ...EXPORT_MEMORY.slice(0, 0), 0x05, 0x03, 0x01, 0x00, 0x01]);
    const out = capModuleMemory(bytes, 2);
    expect([...out]).toEqual([...HEADER, 0x05, 0x04, 0x01, 0x01, 0x01, 0x02]);
  });
});

describe("checkImports", () => {
  function moduleImporting(mod: string, name: string, kind: "func" | "memory"): WebAssembly.Module {
    const enc = new TextEncoder();
    const m = enc.encode(mod);
    const n = enc.encode(name);
    const type = [0x01, 0x04, 0x01, 0x60, 0x00, 0x00]; // one type: () -> ()
    const desc = kind === "func" ? [0x00, 0x00] : [0x02, 0x00, 0x01];
    const body = [0x01, m.length, ...m, n.length, ...n, ...desc];
    return new WebAssembly.Module(Uint8Array.from([...HEADER, ...type, 0x02, body.length, ...body]));
  }

  test("Extism's kernel and imgb host functions are allowed", () => {
    expect(checkImports(moduleImporting("extism:host/env", "output_set", "func"))).toEqual(["extism:host/env.output_set"]);
    expect(checkImports(moduleImporting("extism:host/user", "local_exec", "func"))).toEqual(["extism:host/user.local_exec"]);
  });

  test("WASI, env.abort, http_request, unknown host functions and imported memories are refused", () => {
    expect(() => checkImports(moduleImporting("wasi_snapshot_preview1", "fd_write", "func"))).toThrow("module imports WASI");
    expect(() => checkImports(moduleImporting("env", "abort", "func"))).toThrow("(compile AssemblyScript with --use abort=...)");
    expect(() => checkImports(moduleImporting("extism:host/env", "http_request", "func"))).toThrow('"extism:host/env"."http_request", which imgb does not provide');
    expect(() => checkImports(moduleImporting("extism:host/user", "rm_rf", "func"))).toThrow("which imgb does not provide");
    expect(() => checkImports(moduleImporting("env", "memory", "memory"))).toThrow('module imports memory "env"."memory"');
  });
});
