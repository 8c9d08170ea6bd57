// Per-plugin-instance limits (docs/plugin-abi.md §6).

export interface PluginLimits {
  /** Linear memory of the module and Extism's host-side buffers, each. */
  memoryBytes: number;
  /** CPU time spent executing plugin code per export call (host-call waits excluded). */
  cpuMsPerCall: number;
  /** Largest host-call request or reply and largest export output. */
  messageBytes: number;
  /** UI messages (say/message/error/progress) a plugin may send at once, and per second after that. */
  uiBurst: number;
  uiPerSecond: number;
  /** After an abort, how long the plugin may take to finish on its own before it is killed. */
  abortGraceMs: number;
  /** Host calls forwarded to the host in one export call (`now` and the byte movers are not counted). */
  hostCallsPerCall: number;
  /** Time loading a module (instantiation, start section) and `describe` may take, each. */
  loadMs: number;
  /** Largest module file accepted, and largest total of its data segments. */
  moduleBytes: number;
  dataBytes: number;
}

/**
 * IMGB_PLUGIN_LOAD_MS raises (or lowers) the load-time limit for a machine that is slow at compiling
 * wasm, such as an emulated CPU (qemu-user); a user's own setting, like any other limit they choose.
 */
function loadMsFromEnvironment(fallback: number): number {
  const raw = process.env.IMGB_PLUGIN_LOAD_MS;
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

export const DEFAULT_LIMITS: PluginLimits = {
  memoryBytes: 64 * 2 ** 20,
  cpuMsPerCall: 10_000,
  messageBytes: 16 * 2 ** 20,
  uiBurst: 2000,
  uiPerSecond: 500,
  abortGraceMs: 1000,
  hostCallsPerCall: 4_000_000,
  loadMs: loadMsFromEnvironment(2000),
  moduleBytes: 16 * 2 ** 20,
  dataBytes: 8 * 2 ** 20,
};

export const WASM_PAGE = 65536;

export function withLimits(overrides: Partial<PluginLimits> | undefined): PluginLimits {
  return { ...DEFAULT_LIMITS, ...(overrides ?? {}) };
}
