// Load-time check of the wasm *type* of every import, beyond the names module-check.ts allows: a
// host function imported with the wrong signature is refused at load, naming the import, instead of
// failing at call time with a confusing reply. (import-capabilities.ts checks the names against the
// declared capabilities.)
import { ModuleRefused } from "./module-check.ts";
import { isHostFunction, signatureOf } from "../host/table.ts";

/** A function type in wasm text form: "(i64, i64) -> i64", "() -> ()". */
export type Signature = string;

const VALTYPES: Record<number, string> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };

/** Extism's kernel (extism:host/env), as its runtime defines it. */
export const KERNEL_SIGNATURES: Record<string, Signature> = {
  input_length: "() -> i64",
  input_offset: "() -> i64",
  input_load_u8: "(i64) -> i32",
  input_load_u64: "(i64) -> i64",
  input_read_u8: "(i64) -> i32",
  input_read_u64: "(i64) -> i64",
  length: "(i64) -> i64",
  length_unsafe: "(i64) -> i64",
  alloc: "(i64) -> i64",
  free: "(i64) -> ()",
  output_set: "(i64, i64) -> ()",
  error_set: "(i64) -> ()",
  error_get: "() -> i64",
  config_get: "(i64) -> i64",
  var_get: "(i64) -> i64",
  var_set: "(i64, i64) -> ()",
  store_u8: "(i64, i32) -> ()",
  store_u64: "(i64, i64) -> ()",
  load_u8: "(i64) -> i32",
  load_u64: "(i64) -> i64",
  log_warn: "(i64) -> ()",
  log_info: "(i64) -> ()",
  log_debug: "(i64) -> ()",
  log_error: "(i64) -> ()",
  log_trace: "(i64) -> ()",
  get_log_level: "() -> i32",
};

export interface ImportedFunction {
  module: string;
  name: string;
  signature: Signature;
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new ModuleRefused("module has a truncated section");
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new ModuleRefused("module has a malformed LEB128 number");
    }
  }
  name(): string {
    const n = this.u32();
    if (this.pos + n > this.end) throw new ModuleRefused("module has a truncated name");
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  skipLimits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

/** The function imports of a module with their wasm types (type and import sections only). */
export function importedFunctions(bytes: Uint8Array): ImportedFunction[] {
  const types: Signature[] = [];
  const out: ImportedFunction[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const head = new Reader(bytes, pos + 1, bytes.length);
    const size = head.u32();
    const r = new Reader(bytes, head.pos, head.pos + size);
    if (id === 1) {
      for (let i = r.u32(); i > 0; i--) {
        if (r.byte() !== 0x60) throw new ModuleRefused("module has a type that is not a function type");
        const params = Array.from({ length: r.u32() }, () => VALTYPES[r.byte()] ?? "?");
        const results = Array.from({ length: r.u32() }, () => VALTYPES[r.byte()] ?? "?");
        types.push(`(${params.join(", ")}) -> ${results.length === 0 ? "()" : results.length === 1 ? results[0] : `(${results.join(", ")})`}`);
      }
    } else if (id === 2) {
      for (let i = r.u32(); i > 0; i--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) out.push({ module, name, signature: types[r.u32()] ?? "(unknown type)" });
        else if (kind === 1) {
          r.byte();
          r.skipLimits();
        } else if (kind === 2) r.skipLimits();
        else if (kind === 3) r.pos += 2;
        else r.u32();
      }
      return out;
    }
    pos = head.pos + size;
  }
  return out;
}

/** Refuses a module importing an Extism kernel or imgb host function with the wrong wasm type. */
export function checkImportTypes(bytes: Uint8Array): void {
  for (const imp of importedFunctions(bytes)) {
    const want =
      imp.module === "extism:host/env" ? KERNEL_SIGNATURES[imp.name] : imp.module === "extism:host/user" && isHostFunction(imp.name) ? signatureOf(imp.name) : undefined;
    if (want !== undefined && want !== imp.signature) {
      throw new ModuleRefused(`module imports ${JSON.stringify(imp.module)}.${JSON.stringify(imp.name)} as ${imp.signature}; imgb provides it as ${want}`);
    }
  }
}
