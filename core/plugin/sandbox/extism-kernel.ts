// The one place where the sandbox child works around @extism/extism 2.0.0-rc13 (imported before it):
//
// 1. Memory blocks. Extism's JS kernel names a block by `index << 48` and never reuses an index (free
//    only nulls the slot), so one export call dies after 65,536 allocations (~32,768 host calls) with
//    a wrapped address. Here the plugin's blocks (alloc/free/length/load/store) live in a table that
//    reuses freed indices; host-call requests and replies use it too. Extism's own blocks (the call's
//    input, config/var values) keep low indices and are passed through. The output and error blocks
//    are copied into Extism's table when the plugin sets them, which is where Extism reads them.
// 2. Return codes. Extism discards an export's i32 result; `WebAssembly.promising` is wrapped so the
//    child can see it (`takeReturnCode`).
// 3. The instance. Extism does not hand out the WebAssembly.Instance before the first call; the
//    child needs its memory for the byte-moving host functions (streams/fast-bytes.ts).
//
// Delete a part when the SDK does it itself.

const ENV = "extism:host/env";
/** Block indices from here up are ours; Extism's stay below (it resets its table every call). */
const FIRST_INDEX = 1024;
/** Extism addresses carry the block index in the top 16 bits. */
const LAST_INDEX = 0xffff;
const OFFSET_MASK = (1n << 48n) - 1n;

export class KernelLimit extends Error {
  override name = "KernelLimit";
}

/** Plugin-visible memory blocks with index reuse. Reset at the start of every export call. */
export class BlockTable {
  private blocks: Array<Uint8Array | null> = [];
  private free: number[] = [];
  private bytes = 0;
  /** Bytes all live blocks may hold together (the plugin's memory limit; Extism's maxPages). */
  limitBytes = Number.POSITIVE_INFINITY;

  reset(): void {
    this.blocks = [];
    this.free = [];
    this.bytes = 0;
  }

  /** Live blocks (for tests and limits). */
  get live(): number {
    return this.blocks.length - this.free.length;
  }

  static index(addr: bigint): number {
    return Number(BigInt.asUintN(64, addr) >> 48n);
  }

  static offset(addr: bigint): number {
    return Number(BigInt.asUintN(64, addr) & OFFSET_MASK);
  }

  static isOurs(addr: bigint): boolean {
    return BlockTable.index(addr) >= FIRST_INDEX;
  }

  alloc(n: number): bigint {
    if (this.bytes + n > this.limitBytes) {
      throw new KernelLimit(`host memory blocks would hold ${this.bytes + n} bytes, over the limit of ${this.limitBytes} (the plugin's memory limit)`);
    }
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.blocks.length;
      if (FIRST_INDEX + slot > LAST_INDEX) {
        throw new KernelLimit(
          `the plugin holds ${LAST_INDEX - FIRST_INDEX + 1} Extism memory blocks at once, the limit: free host-call replies (extism:host/env free) after reading them`,
        );
      }
      this.blocks.push(null);
    }
    this.blocks[slot] = new Uint8Array(n);
    this.bytes += n;
    return BigInt.asIntN(64, BigInt(FIRST_INDEX + slot) << 48n);
  }

  /** Stores bytes in a new block and returns its address. */
  store(bytes: Uint8Array): bigint {
    const addr = this.alloc(bytes.length);
    this.get(addr)!.set(bytes);
    return addr;
  }

  get(addr: bigint): Uint8Array | null {
    return this.blocks[BlockTable.index(addr) - FIRST_INDEX] ?? null;
  }

  release(addr: bigint): void {
    const slot = BlockTable.index(addr) - FIRST_INDEX;
    const b = this.blocks[slot];
    if (slot < 0 || !b) return;
    this.bytes -= b.length;
    this.blocks[slot] = null;
    this.free.push(slot);
  }
}

export const blocks = new BlockTable();

type EnvFn = (...args: bigint[]) => unknown;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Extism's call context, as host functions receive it (for copying output in one go). */
interface ExtismContext {
  store(bytes: Uint8Array): bigint;
  read(addr: bigint): { bytes(): Uint8Array } | null;
}
let extismContext: ExtismContext | null = null;

/** Host functions pass their context here; the kernel then copies outputs with one call. */
export function rememberContext(ctx: ExtismContext): void {
  extismContext = ctx;
}

/** A block's bytes, ours or Extism's (the call's input, config values). */
export function blockBytes(addr: bigint): Uint8Array | null {
  if (BlockTable.isOurs(addr)) return blocks.get(addr);
  const r = extismContext?.read(addr);
  return r ? r.bytes() : null;
}

/** Copies bytes into a new Extism-side block (where Extism reads the output and the error). */
function toExtism(env: Record<string, EnvFn>, bytes: Uint8Array): bigint {
  if (extismContext) return extismContext.store(bytes.slice());
  const addr = env.alloc!(BigInt(bytes.length)) as bigint;
  const dv = view(bytes);
  const words = bytes.length >> 3;
  for (let w = 0; w < words; w++) env.store_u64!(addr + BigInt(w << 3), dv.getBigUint64(w << 3, true));
  for (let i = words << 3; i < bytes.length; i++) env.store_u8!(addr + BigInt(i), BigInt(bytes[i]!));
  return addr;
}

function outOfBounds(what: string, addr: bigint): never {
  throw new KernelLimit(`${what}: address 0x${BigInt.asUintN(64, addr).toString(16)} is outside its memory block`);
}

/** The extism:host/env imports with block reuse; everything else is Extism's. */
function wrapEnv(env: Record<string, EnvFn>): Record<string, EnvFn> {
  const ours = (addr: bigint, what: string): { b: Uint8Array; o: number } | null => {
    if (!BlockTable.isOurs(addr)) return null;
    const b = blocks.get(addr);
    if (!b) outOfBounds(what, addr);
    return { b, o: BlockTable.offset(addr) };
  };
  return {
    ...env,
    alloc: (n: bigint) => {
      // An i64 from the plugin: a negative size is a plugin error, not the engine's RangeError.
      if (BigInt.asIntN(64, n) < 0n) throw new KernelLimit(`alloc: ${BigInt.asIntN(64, n)} bytes is not a size`);
      return blocks.alloc(Number(n));
    },
    free: (addr: bigint) => (BlockTable.isOurs(addr) ? blocks.release(addr) : env.free!(addr)),
    length: (addr: bigint) => {
      if (!BlockTable.isOurs(addr)) return env.length!(addr);
      return BigInt(blocks.get(addr)?.length ?? 0);
    },
    length_unsafe: (addr: bigint) => {
      if (!BlockTable.isOurs(addr)) return env.length_unsafe!(addr);
      return BigInt(blocks.get(addr)?.length ?? 0);
    },
    load_u8: (addr: bigint) => {
      const r = ours(addr, "load_u8");
      if (!r) return env.load_u8!(addr);
      if (r.o >= r.b.length) outOfBounds("load_u8", addr);
      return r.b[r.o];
    },
    load_u64: (addr: bigint) => {
      const r = ours(addr, "load_u64");
      if (!r) return env.load_u64!(addr);
      if (r.o + 8 > r.b.length) outOfBounds("load_u64", addr);
      return view(r.b).getBigUint64(r.o, true);
    },
    store_u8: (addr: bigint, v: bigint) => {
      const r = ours(addr, "store_u8");
      if (!r) return env.store_u8!(addr, v);
      if (r.o >= r.b.length) outOfBounds("store_u8", addr);
      r.b[r.o] = Number(v) & 0xff;
    },
    store_u64: (addr: bigint, v: bigint) => {
      const r = ours(addr, "store_u64");
      if (!r) return env.store_u64!(addr, v);
      if (r.o + 8 > r.b.length) outOfBounds("store_u64", addr);
      view(r.b).setBigUint64(r.o, BigInt.asUintN(64, v), true);
    },
    output_set: (addr: bigint, n: bigint) => {
      const r = ours(addr, "output_set");
      if (!r) return env.output_set!(addr, n);
      if (Number(n) > r.b.length) outOfBounds("output_set", addr);
      return env.output_set!(toExtism(env, r.b.subarray(0, Number(n))), n);
    },
    error_set: (addr: bigint) => {
      const r = ours(addr, "error_set");
      if (!r) return env.error_set!(addr);
      return env.error_set!(toExtism(env, r.b));
    },
  };
}

let instance: WebAssembly.Instance | null = null;
let capturing = false;

/** The plugin's instance (after `withKernel` loaded it). */
export function pluginInstance(): WebAssembly.Instance | null {
  return instance;
}

/** Runs `load` (Extism's createPlugin) with the block-reusing kernel and captures the instance. */
export async function withKernel<T>(load: () => Promise<T>): Promise<T> {
  const original = WebAssembly.instantiate;
  capturing = true;
  instance = null;
  type Imports = Record<string, Record<string, unknown>>;
  const patched = async (module: unknown, imports?: Imports): Promise<unknown> => {
    const env = imports?.[ENV] as Record<string, EnvFn> | undefined;
    const patchedImports = env ? { ...imports, [ENV]: wrapEnv(env) } : imports;
    const result = await (original as unknown as (m: unknown, i?: Imports) => Promise<unknown>)(module, patchedImports);
    if (capturing && result instanceof WebAssembly.Instance) instance = result;
    return result;
  };
  (WebAssembly as { instantiate: unknown }).instantiate = patched;
  try {
    return await load();
  } finally {
    (WebAssembly as { instantiate: unknown }).instantiate = original;
    capturing = false;
  }
}

// Return codes: Extism calls `promising(export)()` and drops the result.
let lastReturnCode: number | null = null;
const originalPromising = (WebAssembly as unknown as { promising?: (f: unknown) => (...a: unknown[]) => Promise<unknown> }).promising;
if (originalPromising) {
  (WebAssembly as unknown as { promising: unknown }).promising = (f: unknown) => {
    const p = originalPromising(f);
    return async (...args: unknown[]) => {
      const r = await p(...args);
      lastReturnCode = typeof r === "number" ? r : null;
      return r;
    };
  };
}

/** The i32 the last export call returned (null when it returned nothing), and forgets it. */
export function takeReturnCode(): number | null {
  const r = lastReturnCode;
  lastReturnCode = null;
  return r;
}
