// What loading a module may cost, checked on the bytes before any process starts: the module's size,
// its number of functions and the total size of its data segments (which instantiation copies into memory: a 48 MiB segment
// cost seconds and a gigabyte per load). The time the load itself may take (start section, Extism's
// initialisation, `describe`) is PluginLimits.loadMs, enforced by the parent (parent.ts).
import type { PluginLimits } from "../limits.ts";
import { ModuleRefused, readLeb } from "./module-check.ts";

const DATA_SECTION = 11;
const CODE_SECTION = 10;

/**
 * Function bodies a module may have. Compiling costs the engine ~280 bytes a function whatever its
 * size (1,000,000 empty functions, a 6 MB module, took 280 MiB and 0.7 s), outside the memory limit;
 * first-party plugins have under 200, a Rust std plugin a few thousand.
 */
export const FUNCTIONS_LIMIT = 100_000;

function mib(n: number): string {
  return `${Math.round((n / 2 ** 20) * 10) / 10} MiB`;
}

/** Refuses a module over the size limit, or whose data section is over the data limit. */
export function checkLoadBounds(bytes: Uint8Array, limits: Pick<PluginLimits, "moduleBytes" | "dataBytes">): void {
  if (bytes.length > limits.moduleBytes) {
    throw new ModuleRefused(`module is ${mib(bytes.length)}, over the limit of ${mib(limits.moduleBytes)}`);
  }
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new ModuleRefused("not a WebAssembly module");
  }
  let data = 0;
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const size = readLeb(bytes, pos + 1);
    const end = size.next + size.value;
    if (end > bytes.length) throw new ModuleRefused("module section runs past the end of the file");
    if (id === DATA_SECTION) data += size.value;
    if (id === CODE_SECTION && size.value > 0) {
      const count = readLeb(bytes, size.next).value;
      if (count > FUNCTIONS_LIMIT) throw new ModuleRefused(`module has ${count} functions, over the limit of ${FUNCTIONS_LIMIT}`);
    }
    pos = end;
  }
  if (data > limits.dataBytes) {
    throw new ModuleRefused(`module's data segments are ${mib(data)}, over the limit of ${mib(limits.dataBytes)}`);
  }
}
