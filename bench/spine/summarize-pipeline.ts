// Prints bench/spine/pipeline.sh's results as a markdown table: medians of imgb, the older imgb
// (when the run had one) and packer, their ratios, and the Prepare/Configure calls each imgb made.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface HyperfineResult {
  command: string;
  median: number;
}

const dir = process.argv[2] ?? "bench/out/pipeline";
const counts = new Map<string, string>();
const countsFile = join(dir, "prepare-counts.txt");
if (existsSync(countsFile)) {
  for (const line of readFileSync(countsFile, "utf8").split("\n")) {
    const [bench, bin, n] = line.split(" ");
    if (bench && bin && n) counts.set(`${bench}/${bin}`, n);
  }
}
const fmt = (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`);
const rows = [
  "| benchmark | imgb before | imgb after | packer | before/packer | after/packer | after/before | prepares before → after |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
  const { results } = JSON.parse(readFileSync(join(dir, file), "utf8")) as { results: HyperfineResult[] };
  const by = (name: string) => results.find((r) => r.command === name);
  const after = by("imgb");
  const before = by("imgb-before");
  const packer = by("packer");
  if (!after || !packer) continue;
  const name = file.replace(/\.json$/, "");
  const ratio = (a: HyperfineResult | undefined, b: HyperfineResult | undefined) => (a && b ? (a.median / b.median).toFixed(2) : "–");
  rows.push(
    `| ${name} | ${before ? fmt(before.median) : "–"} | ${fmt(after.median)} | ${fmt(packer.median)} | ${ratio(before, packer)} | ${ratio(after, packer)} | ${ratio(after, before)} | ${counts.get(`${name}/imgb-before`) ?? "–"} → ${counts.get(`${name}/imgb`) ?? "?"} |`,
  );
}
console.log(rows.join("\n"));
