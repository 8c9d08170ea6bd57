// @msgpack/msgpack, loaded when a Packer plugin is started (startPlugin) rather than at every start
// of imgb: the compiled binary carries it compressed (core/embedded/compressed-assets.ts). The codec
// code of this folder (rpc.ts, cty.ts) runs only on a started plugin's streams.
import { ASSET, lazyModule } from "../embedded/compressed-assets.ts";

type Msgpack = typeof import("@msgpack/msgpack");

const library = lazyModule<Msgpack>(ASSET.msgpack, "@msgpack/msgpack");

export const loadMsgpack = (): Promise<Msgpack> => library.load();

/** The library, once loadMsgpack() has run. */
export const msgpack = (): Msgpack => library.loaded();
