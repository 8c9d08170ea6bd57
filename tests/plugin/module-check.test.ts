// The module checks before instantiation: the memory-section rewrite and the import allow-list, on
// hand-assembled modules (each byte below is the WebAssembly binary format).
import { describe, expect, test } from "bun:test";
import { WASM_HEADER } from "../support/wasm-bytes.ts";
import { ModuleRefused, TABLE_ENTRIES_LIMIT, capModuleMemory, checkImports, leb } from "../../core/plugin/sandbox/module-check.ts";


// export section: one export "memory" of memory 0
const EXPORT_MEMORY = [0x07, 0x0a, 0x01, 0x06, ...new TextEncoder().encode("memory"), 0x02, 0x00];

function moduleWithMemory(flags: number, min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [flags, min] : [flags, min, max];
  return Uint8Array.from([...WASM_HEADER, 0x05, limits.length + 1, 0x01, ...limits, ...EXPORT_MEMORY]);
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
    const bytes = Uint8Array.from([...WASM_HEADER, ...EXPORT_MEMORY.slice(0, 0), 0x05, 0x03, 0x01, 0x00, 0x01]);
    const out = capModuleMemory(bytes, 2);
    expect([...out]).toEqual([...WASM_HEADER, 0x05, 0x04, 0x01, 0x01, 0x01, 0x02]);
  });
});


/** One memory page and `tables` funcref tables (min, optional max), each exported as "t<i>". */
function moduleWithTables(tables: Array<[number, number?]>): Uint8Array {
  const body = [...leb(tables.length)];
  for (const [min, max] of tables) body.push(0x70, ...(max === undefined ? [0x00, ...leb(min)] : [0x01, ...leb(min), ...leb(max)]));
  const exports = [...leb(tables.length + 1), 0x06, ...new TextEncoder().encode("memory"), 0x02, 0x00];
  tables.forEach((_, i) => exports.push(0x02, 0x74, 0x30 + i, 0x01, i));
  return Uint8Array.from([...WASM_HEADER, 0x04, ...leb(body.length), ...body, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, ...leb(exports.length), ...exports]);
}

describe("tables and memories beyond one linear memory (memory the memory limit did not count)", () => {
  test("a table without a maximum can grow only to the table budget", () => {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(capModuleMemory(moduleWithTables([[1]]), 4)));
    const t = inst.exports.t0 as WebAssembly.Table;
    expect(t.grow(TABLE_ENTRIES_LIMIT - 1)).toBe(1);
    expect(() => t.grow(1)).toThrow();
  });

  test("many tables share one budget; their minima over it are refused at load", () => {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(capModuleMemory(moduleWithTables([[1], [1, 10_000_000], [2, 3]]), 4)));
    const [a, b, c] = ["t0", "t1", "t2"].map((n) => inst.exports[n] as WebAssembly.Table);
    // The first takes what the minima leave; the others keep their minima (and a smaller declared maximum).
    a!.grow(TABLE_ENTRIES_LIMIT - 4);
    expect(() => b!.grow(1)).toThrow();
    expect(() => c!.grow(1)).toThrow();
    // 75 bytes declaring four 10-million-entry tables took 2.5 GB to instantiate.
    expect(() => capModuleMemory(moduleWithTables([[10_000_000], [10_000_000], [10_000_000], [10_000_000]]), 4)).toThrow(
      `module's tables need 40000000 entries at start, over the limit of ${TABLE_ENTRIES_LIMIT}`,
    );
  });

  test("a second memory (multi-memory) and table64 are refused", () => {
    const two = Uint8Array.from([...WASM_HEADER, 0x05, 0x05, 0x02, 0x00, 0x01, 0x00, 0x01]);
    expect(() => capModuleMemory(two, 4)).toThrow("module declares 2 memories; imgb runs modules with one (no multi-memory)");
    const table64 = Uint8Array.from([...WASM_HEADER, 0x04, 0x04, 0x01, 0x70, 0x04, 0x01]);
    expect(() => capModuleMemory(table64, 4)).toThrow("module declares a table imgb does not run (type 0x70, flags 4)");
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
    return new WebAssembly.Module(Uint8Array.from([...WASM_HEADER, ...type, 0x02, body.length, ...body]));
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
