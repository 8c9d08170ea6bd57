// Bytes and host calls through the plugin ABI, against native peers in the same run
// (results in bench/RESULTS.md):
//   stream   a plugin reads a SIZE artifact through a byte handle (artifact_pread)  vs  `cat FILE >/dev/null`
//   sha256   a plugin hashes it in wasm (same reads)                                vs  `sha256sum FILE`
//   calls    pure host calls (`now`): the AssemblyScript SDK  vs  a C plugin against the bare ABI, and
//            the SDK's cost split: block moves alone, plus parsing the reply
//   1M       one export call making 1,000,000 host calls through the SDK: time and the sandbox's memory
// The sandbox process's memory (VmRSS sampled every 10 ms, and its VmHWM) is reported for every
// plugin run, against the plugin memory limit.
//
//   node_modules/.bin/bun bench/plugin-abi/bench.ts [--size-mib 1024] [--runs 3] [--calls 200000] [--million 1000000]
//
// Needs Debian's clang and lld (the C peer) and coreutils. Writes to bench/out/plugin-abi/.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createPluginCatalog } from "../../core/plugin/catalog.ts";
import { DEFAULT_LIMITS } from "../../core/plugin/limits.ts";
import { compilePlugin } from "../../plugins-wasm/build.ts";
import { RecordingUi, buildValues } from "../../tests/plugin/support.ts";

const { values: args } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "1024" },
    runs: { type: "string", default: "3" },
    calls: { type: "string", default: "200000" },
    million: { type: "string", default: "1000000" },
    chunk: { type: "string", default: String(8 << 20) },
  },
  strict: true,
});
const SIZE = Number(args["size-mib"]) * 2 ** 20;
const RUNS = Number(args.runs);
const CALLS = Number(args.calls);
const MILLION = Number(args.million);
const CHUNK = Number(args.chunk);

const HERE = import.meta.dir;
const OUT = join(HERE, "..", "out", "plugin-abi");
mkdirSync(OUT, { recursive: true });

// --- the plugins -------------------------------------------------------------------------------
const asWasm = join(OUT, "abi-bench.wasm");
await compilePlugin(join(HERE, "as", "assembly", "plugin.ts"), asWasm);
const cWasm = join(OUT, "now-c.wasm");
execFileSync("clang", ["--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-Wl,--export-dynamic", "-o", cWasm, join(HERE, "c", "now.c")]);

const catalog = createPluginCatalog({ embedded: false, limits: { cpuMsPerCall: 600_000 } });
await catalog.registerWasm(new Uint8Array(readFileSync(asWasm)), "declared", "installed", "abi-bench.wasm");
await catalog.registerWasm(new Uint8Array(readFileSync(cWasm)), "declared", "installed", "now-c.wasm");

// --- the artifact ------------------------------------------------------------------------------
const artifact = join(OUT, `artifact-${args["size-mib"]}m.bin`);
if (!existsSync(artifact) || statSync(artifact).size !== SIZE) {
  execFileSync("sh", ["-c", `head -c ${SIZE} /dev/urandom > '${artifact}'`]);
}

// --- measuring ---------------------------------------------------------------------------------
function sandboxChildren(): Set<number> {
  const out = new Set<number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, "utf8").includes("__plugin-sandbox")) out.add(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) : 0;
}

interface PluginRun {
  ms: number;
  id: string;
  /** Sandbox process memory, MiB: before the call, highest sample, at the end, and the kernel's high-water mark. */
  rss: { before: number; peak: number; after: number; hwm: number };
}

/** The largest value of `field` over this process's sandbox children (one plugin runs at a time). */
function sandboxKiB(field: "VmRSS" | "VmHWM"): number {
  let max = 0;
  for (const pid of sandboxChildren()) {
    try {
      max = Math.max(max, statusKiB(pid, field));
    } catch {
      // Exited.
    }
  }
  return max;
}

async function runPlugin(name: string, config: Record<string, string | number>, files: string[] = []): Promise<PluginRun> {
  const pp = await catalog.postProcessor(name);
  try {
    const diags = (await pp.configure([config])).diagnostics;
    if (diags.length) throw new Error(`${name} configure: ${diags.map((d) => d.summary).join("; ")}`);
    const mib = (kib: number) => kib / 1024;
    const rssBefore = sandboxKiB("VmRSS");
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, sandboxKiB("VmRSS"));
    }, 10);
    const input = { builderId: "bench", id: "in", files, string: "", state: {}, destroy: async () => {} };
    const t0 = performance.now();
    const r = await pp.postProcess({ ui: new RecordingUi(), build: buildValues(), templateDir: OUT, signal: new AbortController().signal, outputDir: OUT }, input);
    const ms = performance.now() - t0;
    clearInterval(sampler);
    const after = sandboxKiB("VmRSS");
    return { ms, id: r.artifact.id, rss: { before: mib(rssBefore), peak: mib(Math.max(peak, after)), after: mib(after), hwm: mib(sandboxKiB("VmHWM")) } };
  } finally {
    await pp.close();
  }
}

function timeNative(argv: string[]): { ms: number; stdout: string } {
  const t0 = performance.now();
  const p = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 });
  const ms = performance.now() - t0;
  if (p.status !== 0) throw new Error(`${argv.join(" ")} failed`);
  return { ms, stdout: p.stdout.toString() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (ms: number) => SIZE / 1e6 / (ms / 1000);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const limitMiB = DEFAULT_LIMITS.memoryBytes / 2 ** 20;

console.log(`# plugin ABI bench: ${SIZE / 2 ** 20} MiB artifact, ${RUNS} runs, reads of ${CHUNK / 2 ** 20} MiB, load average ${load()}`);
timeNative(["sh", "-c", `cat '${artifact}' >/dev/null`]); // the page cache holds the file for every reader alike
const rows: string[] = [];
const rssNotes: string[] = [];

// Streaming and hashing, interleaved with their peers.
const t = { cat: [] as number[], stream: [] as number[], sha256sum: [] as number[], sha256: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  t.cat.push(timeNative(["sh", "-c", `cat '${artifact}' >/dev/null`]).ms);
  const s = await runPlugin("abi-bench", { action: "stream", path: artifact, chunk: CHUNK }, [artifact]);
  if (!s.id.startsWith(`${SIZE} `)) throw new Error(`stream read ${s.id}, not ${SIZE} bytes`);
  t.stream.push(s.ms);
  rssNotes.push(`stream run ${i + 1}: sandbox RSS ${s.rss.before.toFixed(0)} → peak ${s.rss.peak.toFixed(0)} → ${s.rss.after.toFixed(0)} MiB (VmHWM ${s.rss.hwm.toFixed(0)} MiB)`);
  const native = timeNative(["sha256sum", artifact]);
  t.sha256sum.push(native.ms);
  const h = await runPlugin("abi-bench", { action: "sha256", path: artifact, chunk: CHUNK }, [artifact]);
  const want = native.stdout.split(" ")[0];
  if (h.id !== `${SIZE} ${want}`) throw new Error(`wasm sha256 gave ${h.id}, sha256sum ${want}`);
  t.sha256.push(h.ms);
  rssNotes.push(`sha256 run ${i + 1}: sandbox RSS ${h.rss.before.toFixed(0)} → peak ${h.rss.peak.toFixed(0)} → ${h.rss.after.toFixed(0)} MiB (VmHWM ${h.rss.hwm.toFixed(0)} MiB)`);
}
rows.push(`| stream ${SIZE / 2 ** 20} MiB through artifact_pread | ${median(t.stream).toFixed(0)} ms = ${mbps(median(t.stream)).toFixed(0)} MB/s | \`cat >/dev/null\` | ${median(t.cat).toFixed(0)} ms = ${mbps(median(t.cat)).toFixed(0)} MB/s | ${(median(t.stream) / median(t.cat)).toFixed(2)} | ≥ 500 MB/s |`);
rows.push(`| sha256 in wasm over ${SIZE / 2 ** 20} MiB | ${median(t.sha256).toFixed(0)} ms = ${mbps(median(t.sha256)).toFixed(0)} MB/s | \`sha256sum\` | ${median(t.sha256sum).toFixed(0)} ms = ${mbps(median(t.sha256sum)).toFixed(0)} MB/s | ${(median(t.sha256) / median(t.sha256sum)).toFixed(2)} | ≤ 3 |`);

// Host-call cost: the fixed cost of a post_process call (count 0) is subtracted.
const perCall = { c: [] as number[], sdk: [] as number[], raw: [] as number[], parse: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const c0 = (await runPlugin("abi-bench-c", { count: 0 })).ms;
  const c = (await runPlugin("abi-bench-c", { count: CALLS })).ms;
  perCall.c.push(((c - c0) * 1000) / CALLS);
  const s0 = (await runPlugin("abi-bench", { action: "now", count: 0 })).ms;
  const s = await runPlugin("abi-bench", { action: "now", count: CALLS });
  if (s.id !== `calls ${CALLS}`) throw new Error(`now gave ${s.id}`);
  perCall.sdk.push(((s.ms - s0) * 1000) / CALLS);
  // Where the SDK's time goes: the block moves alone (what C does), then plus parsing the reply.
  perCall.raw.push((((await runPlugin("abi-bench", { action: "now_raw", count: CALLS })).ms - s0) * 1000) / CALLS);
  perCall.parse.push((((await runPlugin("abi-bench", { action: "now_parse", count: CALLS })).ms - s0) * 1000) / CALLS);
}
rows.push(`| pure host call (\`now\`), AssemblyScript SDK, ${CALLS} calls | ${median(perCall.sdk).toFixed(2)} µs | C against the bare ABI | ${median(perCall.c).toFixed(2)} µs | ${(median(perCall.sdk) / median(perCall.c)).toFixed(2)} | ≤ 2 |`);

rows.push(`| same, SDK's block moves only (storeBytes, loadBytes: no JSON) | ${median(perCall.raw).toFixed(2)} µs | C | ${median(perCall.c).toFixed(2)} µs | ${(median(perCall.raw) / median(perCall.c)).toFixed(2)} | — |`);
rows.push(`| same, plus UTF-8 decode and parseJson of the reply | ${median(perCall.parse).toFixed(2)} µs | C | ${median(perCall.c).toFixed(2)} µs | ${(median(perCall.parse) / median(perCall.c)).toFixed(2)} | — |`);

// A million host calls in one export call.
const m = await runPlugin("abi-bench", { action: "now", count: MILLION });
if (m.id !== `calls ${MILLION}`) throw new Error(`now gave ${m.id}`);
rows.push(`| ${MILLION.toLocaleString("en")} host calls in one export call (SDK) | ${(m.ms / 1000).toFixed(2)} s, sandbox RSS ${m.rss.before.toFixed(0)} → peak ${m.rss.peak.toFixed(0)} → ${m.rss.after.toFixed(0)} MiB | — | — | — | flat memory |`);

await catalog.closeAll();
console.log("\n| benchmark | imgb | peer | peer | ratio (imgb/peer) | goal |\n| --- | --- | --- | --- | --- | --- |");
for (const r of rows) console.log(r);
console.log(`\nPlugin memory limit ${limitMiB} MiB (sandbox process goal ≤ ${2 * limitMiB} MiB):`);
for (const n of rssNotes) console.log(`- ${n}`);
console.log(`\nruns: cat ${t.cat.map((x) => x.toFixed(0)).join("/")} ms, stream ${t.stream.map((x) => x.toFixed(0)).join("/")} ms, sha256sum ${t.sha256sum.map((x) => x.toFixed(0)).join("/")} ms, wasm sha256 ${t.sha256.map((x) => x.toFixed(0)).join("/")} ms; per call C ${perCall.c.map((x) => x.toFixed(2)).join("/")} µs, SDK ${perCall.sdk.map((x) => x.toFixed(2)).join("/")} µs, SDK moves only ${perCall.raw.map((x) => x.toFixed(2)).join("/")} µs, plus parse ${perCall.parse.map((x) => x.toFixed(2)).join("/")} µs; load average at the end ${load()}`);
