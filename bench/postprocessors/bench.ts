// Post-processor byte work: host streaming primitives vs the system tools, on one 1 GiB file.
//
//   bun bench/postprocessors/bench.ts [--size-mib 1024] [--runs 3]
//
// Cases (each run in its own process, interleaved with its baseline, median of --runs):
//   sha256:   `sha256sum FILE`            vs hashFile(FILE, ["sha256"])           (core/plugin/streams)
//   tar.gz:   `gzip -6 -c FILE > OUT`     vs compressFiles(tar + gzip, level 6)   (parallel, all cores)
//   checksum plugin end to end (catalog + sandbox + hash_files) and compress plugin end to end
//   chunk streaming: the probe plugin reading a 16 MiB file through artifact_read in 1 MiB chunks
//     (the design the primitives replace; bytes only touched, not hashed)
// Peak RSS is the process's VmHWM (ours) or /usr/bin/time's max RSS (system tools).
// The data file is built once under bench/out/ from the machine's shared libraries (compressible
// like a disk image, not like random bytes), and kept for later runs.
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JsonObject } from "../../core/values/json.ts";

const ROOT = join(import.meta.dir, "..", "..");
const OUT = join(ROOT, "bench", "out");

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function peakRssKiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : 0;
}

function makeData(path: string, bytes: number): void {
  if (existsSync(path) && statSync(path).size === bytes) return;
  const dir = "/usr/lib/x86_64-linux-gnu";
  const sources = readdirSync(dir)
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => {
      try {
        const s = statSync(f);
        return s.isFile() && s.size > 4096;
      } catch {
        return false;
      }
    });
  const fd = openSync(path, "w");
  let written = 0;
  for (let i = 0; written < bytes; i = (i + 1) % sources.length) {
    const data = readFileSync(sources[i]!);
    const n = Math.min(data.length, bytes - written);
    writeSync(fd, data, 0, n);
    written += n;
  }
  closeSync(fd);
}

async function child(): Promise<void> {
  const [, , , kind, file, out] = process.argv;
  const t0 = performance.now();
  let extra: Record<string, unknown> = {};
  if (kind === "hash") {
    const { hashFile } = await import("../../core/plugin/streams/hash.ts");
    extra = { sha256: (await hashFile(file!, ["sha256"])).digests.sha256 };
  } else if (kind === "targz") {
    const { compressFiles } = await import("../../core/plugin/streams/compress.ts");
    const r = await compressFiles({ inputs: [file!], output: out!, archive: "tar", compression: "gzip", level: 6 });
    extra = { outputBytes: r.outputBytes };
  } else {
    // Through the real catalog and sandbox.
    const { createPluginCatalog } = await import("../../core/plugin/catalog.ts");
    const { RecordingUi, buildValues } = await import("../../tests/plugin/support.ts");
    const catalog = createPluginCatalog({ limits: { cpuMsPerCall: 3_600_000 } });
    const probe = join(ROOT, "tests", ".tmp", "plugins", "stream-probe.wasm");
    await catalog.registerInstalledPlugin(probe, ["artifact_read", "artifact_write"]);
    const type = kind === "plugin-checksum" ? "checksum" : kind === "plugin-compress" ? "compress" : "stream-probe";
    const config: JsonObject =
      kind === "plugin-checksum"
        ? { checksum_types: ["sha256"], output: `${out}` }
        : kind === "plugin-compress"
          ? { output: `${out}` }
          : { read_all: true };
    const pp = await catalog.postProcessor(type);
    const t1 = performance.now();
    await pp.configure([config]);
    await pp.postProcess(
      { ui: new RecordingUi(), build: buildValues(), templateDir: OUT, signal: new AbortController().signal, outputDir: OUT },
      { builderId: "bench", id: "bench", files: [file!], string: "", state: {}, destroy: async () => {} },
    );
    extra = { pluginMs: Math.round(performance.now() - t1) };
    await pp.close();
    await catalog.closeAll();
  }
  console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), rssKiB: peakRssKiB(), ...extra }));
}

interface Sample {
  ms: number;
  rssKiB: number;
}

async function runOurs(args: string[]): Promise<Sample> {
  const t0 = performance.now();
  const p = Bun.spawn([process.execPath, import.meta.path, "--child", ...args], { stdout: "pipe", stderr: "inherit" });
  const text = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`child ${args.join(" ")} failed`);
  const r = JSON.parse(text.trim().split("\n").pop()!) as { rssKiB: number };
  return { ms: performance.now() - t0, rssKiB: r.rssKiB };
}

async function runTool(shell: string): Promise<Sample> {
  const t0 = performance.now();
  const p = Bun.spawn(["/usr/bin/time", "-f", "%M", "sh", "-c", shell], { stdout: "ignore", stderr: "pipe" });
  const err = await new Response(p.stderr).text();
  if ((await p.exited) !== 0) throw new Error(`${shell} failed: ${err}`);
  return { ms: performance.now() - t0, rssKiB: Number(err.trim().split("\n").pop()) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const sizeMiB = arg("--size-mib", 1024);
  const runs = arg("--runs", 3);
  mkdirSync(OUT, { recursive: true });
  const data = join(OUT, `pp-${sizeMiB}m.bin`);
  makeData(data, sizeMiB * 2 ** 20);
  const small = join(OUT, "pp-16m.bin");
  makeData(small, 16 * 2 ** 20);
  // The probe plugin is built by the test suite's harness; build it here too.
  const { compilePlugin, buildAll } = await import("../../plugins-wasm/build.ts");
  await buildAll();
  await compilePlugin(join(ROOT, "tests", "postprocessors", "probe", "assembly", "plugin.ts"), join(ROOT, "tests", ".tmp", "plugins", "stream-probe.wasm"));
  await Bun.file(data).arrayBuffer().catch(() => undefined); // warm the page cache once

  const cases: Array<{ name: string; base: () => Promise<Sample>; ours: () => Promise<Sample> }> = [
    { name: "sha256", base: () => runTool(`sha256sum ${data}`), ours: () => runOurs(["hash", data]) },
    { name: "checksum plugin (sha256, end to end)", base: () => runTool(`sha256sum ${data}`), ours: () => runOurs(["plugin-checksum", data, join(OUT, "bench.checksum")]) },
    // 16 MiB only: at 64 MiB the probe plugin traps (its 64 MiB memory fills faster than it frees).
    { name: "chunk streaming via artifact_read (16 MiB)", base: () => runTool(`sha256sum ${small}`), ours: () => runOurs(["plugin-read", small]) },
    { name: "tar.gz level 6", base: () => runTool(`gzip -6 -c ${data} > ${join(OUT, "bench.gz")}`), ours: () => runOurs(["targz", data, join(OUT, "bench.tar.gz")]) },
    { name: "compress plugin (tar.gz, end to end)", base: () => runTool(`gzip -6 -c ${data} > ${join(OUT, "bench.gz")}`), ours: () => runOurs(["plugin-compress", data, join(OUT, "bench-plugin.tar.gz")]) },
  ];
  const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1]! : "";
  const results: Array<Record<string, unknown>> = [];
  for (const c of cases) {
    if (only && !c.name.startsWith(only)) continue;
    const base: Sample[] = [];
    const ours: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      base.push(await c.base());
      ours.push(await c.ours());
      rmSync(join(OUT, "bench.checksum"), { force: true });
    }
    const row = {
      case: c.name,
      baseMs: Math.round(median(base.map((s) => s.ms))),
      oursMs: Math.round(median(ours.map((s) => s.ms))),
      ratio: Number((median(ours.map((s) => s.ms)) / median(base.map((s) => s.ms))).toFixed(2)),
      basePeakRssMiB: Math.round(Math.max(...base.map((s) => s.rssKiB)) / 1024),
      oursPeakRssMiB: Math.round(Math.max(...ours.map((s) => s.rssKiB)) / 1024),
      runs,
    };
    results.push(row);
    console.log(JSON.stringify(row));
  }
  const sizes = ["bench.gz", "bench.tar.gz"].filter((f) => existsSync(join(OUT, f))).map((f) => `${f}: ${statSync(join(OUT, f)).size}`);
  console.log(`output sizes: ${sizes.join(", ")}`);
  writeFileSync(join(OUT, "postprocessors.json"), JSON.stringify({ sizeMiB, results, sizes }, null, 2));
  for (const f of ["bench.gz", "bench.tar.gz", "bench-plugin.tar.gz", "bench.checksum"]) rmSync(join(OUT, f), { force: true });
}

if (process.argv[2] === "--child") await child();
else await main();
