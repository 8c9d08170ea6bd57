// Reads hyperfine JSON exports (bench/out/*.json) and prints medians and the imgb/peer ratio as a
// markdown table, for bench/RESULTS.md.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface HyperfineResult {
  command: string;
  median: number;
  mean: number;
  times: number[];
}

const dir = process.argv[2] ?? "bench/out";
const rows: string[] = ["| benchmark | imgb median | peer | peer median | ratio (imgb/peer) |", "| --- | --- | --- | --- | --- |"];
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
  const { results } = JSON.parse(readFileSync(join(dir, file), "utf8")) as { results: HyperfineResult[] };
  const imgb = results.find((r) => r.command === "imgb");
  const peer = results.find((r) => r.command !== "imgb");
  if (!imgb || !peer) continue;
  const fmt = (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`);
  rows.push(`| ${file.replace(/\.json$/, "")} | ${fmt(imgb.median)} | ${peer.command} | ${fmt(peer.median)} | ${(imgb.median / peer.median).toFixed(2)} |`);
}
console.log(rows.join("\n"));
