// @msgpack/msgpack, loaded when a Packer plugin is started (startPlugin) rather than at every start
// of imgb: the compiled binary carries it compressed (core/embedded/compressed-assets.ts). The codec
// code of this folder (rpc.ts, cty.ts) runs only on a started plugin's streams.
import { ASSET, lazyModule } from "../embedded/compressed-assets.ts";

type Msgpack = typeof import("@msgpack/msgpack");

const load = lazyModule<Msgpack>(ASSET.msgpack, "@msgpack/msgpack");
let loaded: Msgpack | undefined;

export async function loadMsgpack(): Promise<Msgpack> {
  loaded ??= await load();
  return loaded;
}

/** The library, once loadMsgpack() has run. */
export function msgpack(): Msgpack {
  if (!loaded) throw new Error("internal: msgpack used before loadMsgpack()");
  return loaded;
}
