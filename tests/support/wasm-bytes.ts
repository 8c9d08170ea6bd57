// Hand-made WebAssembly modules for the load-time checks: bytes a compiler would not produce.
import { leb } from "../../core/plugin/sandbox/module-check.ts";

export const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A module of `sections`, [id, body] pairs, in order. */
export function wasmModule(sections: Array<[number, number[] | Uint8Array]>): Uint8Array {
  const chunks: Uint8Array[] = [Uint8Array.from(WASM_HEADER)];
  for (const [id, body] of sections) {
    chunks.push(Uint8Array.from([id, ...leb(body.length)]));
    chunks.push(body instanceof Uint8Array ? body : Uint8Array.from(body));
  }
  return new Uint8Array(Buffer.concat(chunks));
}
