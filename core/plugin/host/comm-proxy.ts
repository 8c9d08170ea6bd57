// Capability comm_proxy (docs/plugin-abi.md §3): open and close a communicator adapter
// (core/communicator/adapter/) bound to this build's communicator, for a program the plugin runs
// with local_exec (ansible-playbook). The host generates the keys and writes the client key and a
// known_hosts line to the call's temp files; the plugin gets paths and a port, never the server.
// Adapters still open when the call ends are closed then.
import { startAdapter, type Adapter } from "../../communicator/adapter/server.ts";
import type { HostCallContext } from "./context.ts";
import type { ReplyOf, RequestOf } from "./table.ts";

const open = new WeakMap<HostCallContext, Map<number, Adapter>>();

export async function openCommProxy(ctx: HostCallContext, req: RequestOf<"comm_proxy_open">): Promise<ReplyOf<"comm_proxy_open">> {
  if (!ctx.communicator) throw new Error("the communicator is not available here");
  if (!ctx.temp) throw new Error("temp files are not available here");
  const adapter = await startAdapter(ctx.communicator, { port: req.port }, ctx.signal).catch((e: Error) => {
    throw new Error(`cannot listen on 127.0.0.1:${req.port}: ${e.message}`);
  });
  let mine = open.get(ctx);
  if (!mine) {
    const adapters = new Map<number, Adapter>();
    mine = adapters;
    open.set(ctx, adapters);
    (ctx.atCallEnd ??= []).push(async () => {
      await Promise.all([...adapters.values()].map((a) => a.close()));
    });
  }
  mine.set(adapter.port, adapter);
  const key = await ctx.temp.create("imgb-adapter-key", "", new TextEncoder().encode(adapter.clientPrivateKey), 0o600);
  const knownHosts = await ctx.temp.create("imgb-adapter-known-hosts", "", new TextEncoder().encode(`[127.0.0.1]:${adapter.port} ${adapter.hostPublicKey}\n`), 0o600);
  return { id: adapter.port, host: "127.0.0.1", port: adapter.port, private_key_file: key, known_hosts_file: knownHosts };
}

export async function closeCommProxy(ctx: HostCallContext, req: RequestOf<"comm_proxy_close">): Promise<ReplyOf<"comm_proxy_close">> {
  const adapter = open.get(ctx)?.get(req.id);
  if (!adapter) throw new Error(`no adapter ${req.id} is open`);
  open.get(ctx)?.delete(req.id);
  await adapter.close();
  return {};
}
