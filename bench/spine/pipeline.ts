// The component-pipeline benchmark: `validate` and `build` of the 3 x 30 and the 20-provisioner
// templates, dist/imgb against packer 1.6.6 — and against an older imgb (BEFORE=path) — with the runs
// of every command interleaved (run 1 of each, then run 2 of each, ...) so a load that changes on a
// shared machine falls on all of them alike. Also counts the Prepare/Configure calls each imgb makes
// (IMGB_DEBUG_PREPARE_COUNT=1).
//   bun run bench/spine/pipeline.ts [runs]        (needs dist/imgb and packer: apt-get install packer)
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const runs = Number(process.argv[2] ?? 10);
const imgb = join(root, "dist/imgb");
const before = process.env.BEFORE;
const dir = join(root, "bench/out/pipeline");
spawnSync(join(root, "node_modules/.bin/bun"), ["run", join(root, "bench/spine/make-templates.ts"), dir], { stdio: "ignore" });
const env = { ...process.env, CHECKPOINT_DISABLE: "1", PACKER_LOG: "" };

const cases: Array<{ name: string; args: string[] }> = [
  { name: "validate legacy JSON, 3 builds x 30 shell-local", args: ["validate", "validate-3x30.json"] },
  { name: "validate HCL2, 3 sources x 30 shell-local", args: ["validate", "validate-3x30.pkr.hcl"] },
  { name: "validate null/none with 20 shell-local", args: ["validate", "build-20-shell-local.json"] },
  { name: "build legacy JSON, 3 builds x 30 shell-local", args: ["build", "-color=false", "validate-3x30.json"] },
  { name: "build null/none with 20 shell-local", args: ["build", "-color=false", "build-20-shell-local.json"] },
];
const tools: Array<{ label: string; bin: string }> = [
  { label: "imgb", bin: imgb },
  ...(before ? [{ label: "imgb before", bin: before }] : []),
  { label: "packer", bin: "packer" },
];

/** Runs of each tool that exited non-zero (reported, not timed). */
const failures = new Map<string, string[]>();

function once(bin: string, args: string[], extraEnv: Record<string, string> = {}): { ms: number; stderr: string; ok: boolean } {
  const t0 = performance.now();
  const r = spawnSync(bin, args, { cwd: dir, env: { ...env, ...extraEnv }, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) {
    const why = `${r.stderr}${r.stdout}`.split("\n").filter((l) => /errored|rror:/.test(l)).slice(0, 2).join(" / ");
    failures.set(bin, [...(failures.get(bin) ?? []), `${args.join(" ")}: ${why}`]);
  }
  return { ms, stderr: r.stderr, ok: r.status === 0 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number) => (ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(3)} s`);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

console.log(`load average at start: ${load()}; ${runs} interleaved runs after one warm-up each`);
const rows = [
  `| benchmark | imgb | ${before ? "imgb before | " : ""}packer | imgb/packer | ${before ? "before/packer | imgb/before | " : ""}prepares ${before ? "before → " : ""}imgb |`,
  `| --- | --- | ${before ? "--- | " : ""}--- | --- | ${before ? "--- | --- | " : ""}--- |`,
];
for (const c of cases) {
  for (const t of tools) once(t.bin, c.args);
  const times = new Map<string, number[]>(tools.map((t) => [t.label, []]));
  for (let i = 0; i < runs; i++) {
    for (const t of tools) {
      const r = once(t.bin, c.args);
      if (r.ok) times.get(t.label)!.push(r.ms);
    }
  }
  const count = (bin: string) => /imgb: (\d+) plugin prepare/.exec(once(bin, c.args, { IMGB_DEBUG_PREPARE_COUNT: "1" }).stderr)?.[1] ?? "?";
  const m = (label: string) => median(times.get(label)!);
  const cols = [fmt(m("imgb")), ...(before ? [fmt(m("imgb before"))] : []), fmt(m("packer")), (m("imgb") / m("packer")).toFixed(2)];
  if (before) cols.push((m("imgb before") / m("packer")).toFixed(2), (m("imgb") / m("imgb before")).toFixed(2));
  cols.push(before ? `${count(before)} → ${count(imgb)}` : count(imgb));
  rows.push(`| ${c.name} | ${cols.join(" | ")} |`);
  console.error(`done: ${c.name} (load ${load()})`);
}
console.log(rows.join("\n"));
console.log(`load average at end: ${load()}`);
for (const [bin, why] of failures) console.log(`${bin}: ${why.length} failed run(s), not timed: ${why.join("; ")}`);
