// Checks a plugin module before it is instantiated: only Extism's kernel and the imgb host functions
// may be imported (no WASI, no env.abort, no imported memory or table), the module has one linear
// memory with a declared maximum no larger than the plugin's memory limit, and its tables together
// hold at most TABLE_ENTRIES_LIMIT entries. Extism's `memory.maxPages` limits only host-side buffers
// under Bun, so rewriting the memory and table sections is what bounds the plugin: a table entry costs
// the engine ~64 bytes, so without a maximum `table.grow` reached 10 million entries (650 MB) under a
// 16 MiB memory limit, and a 75-byte module declaring four such tables took 2.5 GB to instantiate;
// a second memory (multi-memory) would get a second memory limit.
import { isHostFunction } from "../host/table.ts";

/** Extism kernel functions a plugin may import (`http_request` is left out: plugins get no network). */
const EXTISM_KERNEL = new Set([
  "input_length",
  "input_load_u8",
  "input_load_u64",
  "input_offset",
  "input_read_u8",
  "input_read_u64",
  "length",
  "length_unsafe",
  "alloc",
  "free",
  "output_set",
  "error_set",
  "error_get",
  "config_get",
  "var_get",
  "var_set",
  "store_u8",
  "store_u64",
  "load_u8",
  "load_u64",
  "log_warn",
  "log_info",
  "log_debug",
  "log_error",
  "log_trace",
  "get_log_level",
]);

export class ModuleRefused extends Error {
  override name = "ModuleRefused";
}

const PAGE = 65536;

/** Entries all tables of a module may hold together (~4 MiB of engine memory; first-party plugins use 2). */
export const TABLE_ENTRIES_LIMIT = 65536;

/** An unsigned LEB128 number at `pos`, and where the next field starts. */
export function readLeb(bytes: Uint8Array, pos: number): { value: number; next: number } {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= bytes.length) throw new ModuleRefused("module is truncated");
    const b = bytes[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value: result, next: pos };
    shift += 7;
    if (shift > 35) throw new ModuleRefused("module has a malformed LEB128 number");
  }
}

/** LEB128 (unsigned) of `value`, as the binary format writes sizes and counts. */
export function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

/**
 * Returns a copy of the module whose memory declares a maximum of at most `maxPages` and whose tables
 * declare maxima adding up to at most TABLE_ENTRIES_LIMIT. A declared minimum above the limit, more
 * than one memory, shared or 64-bit memories and tables, and table encodings beyond reference types
 * are refused.
 */
export function capModuleMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new ModuleRefused("not a WebAssembly module");
  }
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const size = readLeb(bytes, pos + 1);
    const start = size.next;
    const end = start + size.value;
    if (end > bytes.length) throw new ModuleRefused("module section runs past the end of the file");
    if (id === 4) {
      parts.push(capTables(bytes, start, end));
    } else if (id !== 5) {
      parts.push(bytes.subarray(pos, end));
    } else {
      const body: number[] = [];
      const count = readLeb(bytes, start);
      if (count.value > 1) throw new ModuleRefused(`module declares ${count.value} memories; imgb runs modules with one (no multi-memory)`);
      body.push(...leb(count.value));
      let p = count.next;
      for (let i = 0; i < count.value; i++) {
        const flags = bytes[p++]!;
        if (flags !== 0 && flags !== 1) {
          throw new ModuleRefused(`module declares a shared or 64-bit memory (flags ${flags}), which imgb does not run`);
        }
        const min = readLeb(bytes, p);
        p = min.next;
        let max = maxPages;
        if (flags === 1) {
          const declared = readLeb(bytes, p);
          p = declared.next;
          max = Math.min(declared.value, maxPages);
        }
        if (min.value > maxPages) {
          throw new ModuleRefused(
            `module needs ${(min.value * PAGE) / 2 ** 20} MiB of memory at start, over the limit of ${(maxPages * PAGE) / 2 ** 20} MiB`,
          );
        }
        body.push(1, ...leb(min.value), ...leb(max));
      }
      if (p !== end) throw new ModuleRefused("module has a malformed memory section");
      parts.push(Uint8Array.from([5, ...leb(body.length), ...body]));
    }
    pos = end;
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The table section (id 4) between `start` and `end`, rewritten with every table's maximum declared and their sum bounded. */
function capTables(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const count = readLeb(bytes, start);
  const tables: Array<{ type: number; min: number; max: number | null }> = [];
  let p = count.next;
  for (let i = 0; i < count.value; i++) {
    const type = bytes[p++]!;
    const flags = bytes[p++]!;
    if ((type !== 0x70 && type !== 0x6f) || (flags !== 0 && flags !== 1)) {
      throw new ModuleRefused(`module declares a table imgb does not run (type 0x${type.toString(16)}, flags ${flags}): only funcref and externref tables with 32-bit limits`);
    }
    const min = readLeb(bytes, p);
    p = min.next;
    let max: number | null = null;
    if (flags === 1) {
      const declared = readLeb(bytes, p);
      p = declared.next;
      max = declared.value;
    }
    tables.push({ type, min: min.value, max });
  }
  if (p !== end) throw new ModuleRefused("module has a malformed table section");
  const mins = tables.reduce((n, t) => n + t.min, 0);
  if (mins > TABLE_ENTRIES_LIMIT) {
    throw new ModuleRefused(`module's tables need ${mins} entries at start, over the limit of ${TABLE_ENTRIES_LIMIT}`);
  }
  // What the minima leave of the budget is handed out in order: the maxima never add up to more.
  let spare = TABLE_ENTRIES_LIMIT - mins;
  const body: number[] = [...leb(count.value)];
  for (const t of tables) {
    const max = Math.min(t.max ?? Number.POSITIVE_INFINITY, t.min + spare);
    spare -= max - t.min;
    body.push(t.type, 1, ...leb(t.min), ...leb(max));
  }
  return Uint8Array.from([4, ...leb(body.length), ...body]);
}

/** Refuses any import imgb does not provide; returns the list as "module.name" for reporting. */
export function checkImports(module: WebAssembly.Module): string[] {
  const names: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    const label = `${JSON.stringify(imp.module)}.${JSON.stringify(imp.name)}`;
    if (imp.module.startsWith("wasi")) {
      throw new ModuleRefused(`module imports WASI (${label}); imgb plugins run without WASI`);
    }
    const ok =
      imp.kind === "function" &&
      ((imp.module === "extism:host/env" && EXTISM_KERNEL.has(imp.name)) || (imp.module === "extism:host/user" && isHostFunction(imp.name)));
    if (!ok) {
      const hint = imp.module === "env" && imp.name === "abort" ? " (compile AssemblyScript with --use abort=...)" : "";
      throw new ModuleRefused(`module imports ${imp.kind} ${label}, which imgb does not provide${hint}`);
    }
    names.push(`${imp.module}.${imp.name}`);
  }
  return names;
}
