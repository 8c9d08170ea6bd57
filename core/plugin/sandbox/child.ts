// The sandbox child: `imgb __plugin-sandbox`. Loads one plugin module and runs its exports on request
// from the parent over Bun IPC. It owns nothing: every host function call is forwarded to the parent,
// which holds the grants, the UI and the communicator. The parent kills this process at the CPU
// limit or on abort; this process exits by itself when the IPC channel closes (parent gone).
// extism-kernel.ts must be evaluated before @extism/extism (it wraps WebAssembly.promising); Extism
// is loaded when the first module is (the compiled binary carries it compressed, not as code).
import { KernelLimit, blockBytes, blocks, pluginInstance, rememberContext, takeReturnCode, withKernel } from "./extism-kernel.ts";
import type { CallContext, Plugin } from "@extism/extism";
import { ASSET, lazyModule } from "../../embedded/compressed-assets.ts";
import type { ChildMessage, ParentMessage } from "./protocol.ts";
import { HOST_FUNCTION_NAMES, SANDBOX_FUNCTIONS, type SandboxServedName } from "../host/table.ts";
import { ModuleRefused, capModuleMemory, checkImports } from "./module-check.ts";
import { checkImportTypes } from "./import-check.ts";
import { ByteHandleError, ByteHandles } from "./byte-handles.ts";
import { readClock } from "../host/clock.ts";

const PAGE = 65536;
const extism = lazyModule<typeof import("@extism/extism")>(ASSET.extism, "@extism/extism");

let plugin: Plugin | null = null;
let memoryLimitBytes = 64 * 2 ** 20;
let messageLimit = 16 * 2 ** 20;
let nextHostId = 1;
const pendingHost = new Map<number, (payload: string) => void>();

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

const handles = new ByteHandles();

/** A host-call request: the plugin's block, freed once read (docs/plugin-abi.md §1). */
function takeRequest(ctx: CallContext, ptr: bigint): Uint8Array {
  rememberContext(ctx);
  const ours = blocks.get(ptr);
  if (ours) {
    blocks.release(ptr);
    return ours;
  }
  const input = ctx.read(ptr);
  return input ? input.bytes() : new Uint8Array(0);
}

/** A host function that forwards its JSON request to the parent and returns the parent's reply. */
function forwarder(fn: string) {
  // Must be a real `async function`: Extism detects async host functions by constructor (JSPI).
  return async function (ctx: CallContext, ptr: bigint): Promise<bigint> {
    const bytes = takeRequest(ctx, ptr);
    let payload: string;
    if (bytes.length > messageLimit) {
      // Tell the parent so the refusal is recorded and named, without shipping the bytes.
      payload = JSON.stringify({ __oversized: bytes.length });
    } else {
      payload = new TextDecoder().decode(bytes);
    }
    const id = nextHostId++;
    const reply = await new Promise<string>((resolve) => {
      pendingHost.set(id, resolve);
      send({ t: "host", id, fn, payload });
    });
    if (fn === "artifact_open" || fn === "artifact_create") handles.adopt(fn, reply);
    return blocks.store(encoder.encode(reply));
  };
}

const encoder = new TextEncoder();

/** `len` bytes of the plugin's own memory at `ptr` (a view, not a copy). */
function linearMemory(what: string, ptr: bigint, len: bigint): Uint8Array {
  const mem = pluginInstance()?.exports.memory;
  if (!(mem instanceof WebAssembly.Memory)) throw new KernelLimit(`${what}: the module exports no memory named "memory"`);
  if (ptr < 0n || len < 0n || ptr + len > BigInt(mem.buffer.byteLength)) {
    throw new KernelLimit(`${what}: bytes ${ptr}..${ptr + len} are outside the plugin's memory (${mem.buffer.byteLength} bytes)`);
  }
  return new Uint8Array(mem.buffer, Number(ptr), Number(len));
}

/** Host functions served here, synchronously (no IPC, no suspension). */
function childFunctions(): Record<SandboxServedName, (ctx: CallContext, ...args: bigint[]) => bigint> {
  return {
    now: (ctx, ptr) => {
      takeRequest(ctx, ptr);
      return blocks.store(encoder.encode(JSON.stringify(readClock())));
    },
    // Whole blocks to and from the plugin's linear memory in one call (the SDK's copies).
    block_read: (ctx, addr, dst) => {
      rememberContext(ctx);
      const bytes = blockBytes(addr);
      if (!bytes) throw new KernelLimit(`block_read: 0x${BigInt.asUintN(64, addr).toString(16)} is not a memory block`);
      linearMemory("block_read", dst, BigInt(bytes.length)).set(bytes);
      return BigInt(bytes.length);
    },
    block_write: (ctx, src, len) => {
      rememberContext(ctx);
      return blocks.store(linearMemory("block_write", src, len));
    },
    artifact_pread: (_ctx, handle, offset, ptr, len) => handles.pread(handle, offset, ptr, len),
    artifact_pwrite: (_ctx, handle, offset, ptr, len) => handles.pwrite(handle, offset, ptr, len),
    artifact_close: (_ctx, handle) => handles.close(handle),
  };
}

async function load(msg: Extract<ParentMessage, { t: "load" }>): Promise<void> {
  memoryLimitBytes = msg.memoryMaxPages * PAGE;
  blocks.limitBytes = memoryLimitBytes;
  messageLimit = msg.messageLimit;
  try {
    const raw = Uint8Array.from(Buffer.from(msg.wasmBase64, "base64"));
    const capped = capModuleMemory(raw, msg.memoryMaxPages);
    const module = new WebAssembly.Module(capped);
    const imports = checkImports(module);
    checkImportTypes(capped);
    const functions: Record<string, (ctx: CallContext, ...args: bigint[]) => bigint | Promise<bigint>> = {};
    for (const fn of HOST_FUNCTION_NAMES) if (!SANDBOX_FUNCTIONS.has(fn)) functions[fn] = forwarder(fn);
    Object.assign(functions, childFunctions());
    const { default: createPlugin } = await extism.load();
    plugin = await withKernel(() =>
      createPlugin(
        { wasm: [{ module }] },
        {
          useWasi: false,
          runInWorker: false,
          functions: { "extism:host/user": functions },
          memory: { maxPages: msg.memoryMaxPages, maxVarBytes: 1 << 20 },
          logLevel: "silent",
        },
      ),
    );
    const exports = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === "function")
      .map((e) => e.name);
    send({ t: "loaded", imports, exports });
  } catch (e) {
    const message = e instanceof ModuleRefused ? e.message : `cannot load the module: ${errorText(e)}`;
    send({ t: "load_error", message });
  }
}

const PLUGIN_ERROR_PREFIX = "Plugin-originated error: ";

async function memoryInUse(): Promise<number> {
  try {
    const inst = await plugin!.getInstance();
    const mem = inst.exports.memory;
    return mem instanceof WebAssembly.Memory ? mem.buffer.byteLength : 0;
  } catch {
    return 0;
  }
}

async function call(msg: Extract<ParentMessage, { t: "call" }>): Promise<void> {
  if (!plugin) {
    send({ t: "result", id: msg.id, ok: false, kind: "limit", error: "the module is not loaded" });
    return;
  }
  blocks.reset();
  takeReturnCode();
  try {
    const out = await plugin.call(msg.fn, msg.input);
    const code = takeReturnCode();
    if (code !== null && code !== 0) {
      send({ t: "result", id: msg.id, ok: false, kind: "status", error: `${msg.fn} returned ${code} without reporting an error (error_set)` });
      return;
    }
    const bytes = out ? out.bytes() : new Uint8Array(0);
    if (bytes.length > messageLimit) {
      send({ t: "result", id: msg.id, ok: false, kind: "limit", error: `output of ${msg.fn} is ${bytes.length} bytes, over the limit of ${messageLimit}` });
      return;
    }
    send({ t: "result", id: msg.id, ok: true, output: new TextDecoder().decode(bytes) });
  } catch (e) {
    const text = errorText(e);
    if (e instanceof KernelLimit || e instanceof ByteHandleError) {
      send({ t: "result", id: msg.id, ok: false, kind: "limit", error: text });
      return;
    }
    if (text.startsWith(PLUGIN_ERROR_PREFIX)) {
      send({ t: "result", id: msg.id, ok: false, kind: "plugin", error: text.slice(PLUGIN_ERROR_PREFIX.length) });
      return;
    }
    // A module that ran into its memory cap traps (AssemblyScript's allocator hits `unreachable`);
    // the failed allocation may have been large, so "near the cap" is what identifies it.
    const used = await memoryInUse();
    if (used > 0 && used >= memoryLimitBytes - Math.max(2 * 2 ** 20, memoryLimitBytes / 8)) {
      send({ t: "result", id: msg.id, ok: false, kind: "limit", error: `out of memory (limit ${memoryLimitBytes / 2 ** 20} MiB)` });
      return;
    }
    // JavaScriptCore appends where it was evaluating; that is our code, not the plugin's.
    let error = text.replace(/ \(evaluating '[^']*'\)$/, "");
    // A large allocation can fail far below the cap: say how much memory was in use.
    if (used >= memoryLimitBytes / 2) error += ` (memory in use: ${Math.round(used / 2 ** 20)} MiB of ${memoryLimitBytes / 2 ** 20} MiB)`;
    send({ t: "result", id: msg.id, ok: false, kind: "trap", error });
  } finally {
    handles.closeAll();
    blocks.reset();
  }
}

/** Exits when the parent is gone: IPC disconnect, or re-parenting if the event never comes. */
function watchParent(): void {
  process.on("disconnect", () => process.exit(0));
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500);
  timer.unref();
}

export async function runSandboxChild(_args: string[]): Promise<void> {
  if (!process.send) {
    process.stderr.write("imgb: __plugin-sandbox is internal and runs only under the imgb plugin host\n");
    process.exit(2);
  }
  watchParent();
  // Calls are serialised by the parent; host replies may arrive while a call is suspended.
  process.on("message", (raw: unknown) => {
    const msg = raw as ParentMessage;
    if (msg.t === "reply") {
      const resolve = pendingHost.get(msg.id);
      pendingHost.delete(msg.id);
      resolve?.(msg.payload);
    } else if (msg.t === "load") {
      void load(msg);
    } else if (msg.t === "call") {
      void call(msg);
    }
  });
  // Keep the process alive while the channel is open.
  await new Promise<never>(() => {});
}
