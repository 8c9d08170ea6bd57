// The SSH communicator's run-time code (connecting, commands, transfers, tunnels): the entry of a
// lazily loaded asset, so that the compiled binary neither precompiles nor evaluates it at every
// start (lazy-runtime.ts loads it; the modules it shares with the binary: runtime-shared.ts).
export { connectSsh } from "./communicator.ts";
