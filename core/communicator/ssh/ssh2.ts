// The ssh2 library, loaded when it is first needed (a build connecting over SSH, the communicator
// adapter's server) instead of at every start: the compiled binary carries it as a compressed module
// (core/embedded/compressed-assets.ts), which saves ~1.7 MB of bundled code and bytecode and its
// evaluation at start-up. Everything that uses ssh2 at run time goes through here; `import type` from
// "ssh2" stays free.
// Its optional native addons (sshcrypto, cpu-features) are not embedded: ssh2 prefers AES-GCM (the
// runtime's own crypto) either way, and chacha20-poly1305 runs in ssh2's JavaScript/wasm fallback.
import type * as Ssh2Module from "ssh2";
import { ASSET, lazyModule } from "../../embedded/compressed-assets.ts";

export type Ssh2 = typeof Ssh2Module;
type Entry = typeof import("./ssh2-entry.ts");

const entry = lazyModule<Entry>(ASSET.ssh2, `${import.meta.dir}/ssh2-entry.ts`);

/** ssh2, from the binary's compressed asset or (from the sources) node_modules. */
export async function loadSsh2(): Promise<Ssh2> {
  return (await entry.load()).ssh2;
}

/** ssh2, for synchronous code on paths that awaited loadSsh2 first. */
export function ssh2(): Ssh2 {
  return entry.loaded().ssh2;
}

/** ssh2's internals that certificate.ts extends. */
export function ssh2Internals(): Pick<Entry, "Protocol" | "sendPacket"> {
  return entry.loaded();
}
