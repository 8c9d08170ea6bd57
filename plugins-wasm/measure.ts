// Measures the two ways to run a plugin (docs/plugin-abi.md §9): in-process Extism versus the
// sandbox child process: load time and host-call round trip. Short by design (2 shared cores).
//   bun run plugins-wasm/measure.ts
import createPlugin, { type CallContext } from "@extism/extism";
import { join } from "node:path";
import { HOST_FUNCTION_NAMES } from "../core/plugin/host/table.ts";
import { SandboxProcess } from "../core/plugin/sandbox/parent.ts";
import { withLimits } from "../core/plugin/limits.ts";
import { hostileWasm } from "../tests/plugin/hostile/build.ts";
import { buildAll } from "./build.ts";

const CALLS = 2000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

await buildAll();
const shellLocal = new Uint8Array(await Bun.file(join(import.meta.dir, "dist", "shell-local.wasm")).arrayBuffer());
const probe = new Uint8Array(await Bun.file(await hostileWasm("probe")).arrayBuffer());

async function inProcess(bytes: Uint8Array) {
  const functions: Record<string, (ctx: CallContext, p: bigint) => Promise<bigint>> = {};
  for (const f of HOST_FUNCTION_NAMES) functions[f] = async function (ctx: CallContext, _p: bigint): Promise<bigint> { return ctx.store("{}"); };
  return createPlugin({ wasm: [{ module: new WebAssembly.Module(bytes) }] }, { useWasi: false, functions: { "extism:host/user": functions } });
}

const loadIn: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const p = await inProcess(shellLocal);
  await p.call("describe", "");
  loadIn.push(performance.now() - t);
  await p.close();
}
const pin = await inProcess(probe);
const input = JSON.stringify({ config: { action: "ui_flood", count: CALLS } });
await pin.call("provision", input);
let t = performance.now();
await pin.call("provision", input);
const rtIn = ((performance.now() - t) / CALLS) * 1000;
await pin.close();

const limits = withLimits({ uiBurst: 1e9, uiPerSecond: 1e9 });
const loadChild: number[] = [];
for (let i = 0; i < 5; i++) {
  t = performance.now();
  const sb = await SandboxProcess.start("shell-local", shellLocal, limits);
  await sb.call("describe", "", async () => "{}");
  loadChild.push(performance.now() - t);
  sb.kill();
  await sb.exited;
}
const sb = await SandboxProcess.start("probe", probe, limits);
await sb.call("provision", input, async () => "{}");
t = performance.now();
await sb.call("provision", input, async () => "{}");
const rtChild = ((performance.now() - t) / CALLS) * 1000;
sb.kill();
await sb.exited;

console.log(`in-process:    load+describe median ${median(loadIn).toFixed(1)} ms (first ${loadIn[0]!.toFixed(1)}), host call round trip ${rtIn.toFixed(1)} µs`);
console.log(`child process: spawn+load+describe median ${median(loadChild).toFixed(1)} ms (first ${loadChild[0]!.toFixed(1)}), host call round trip ${rtChild.toFixed(1)} µs`);
