// The Packer plugin protocol's run-time code (start and handshake, yamux, the mux broker, net/rpc
// with msgpack, gob and cty, the bridged Builder, Communicator and data sources): the entry of a
// lazily loaded asset, loaded by lazy-runtime.ts only when a template uses a plugin-served component
// (the modules it shares with the binary: runtime-shared.ts).
export { PluginBuilder } from "./builder.ts";
export { startPluginDatasource } from "./datasource.ts";
