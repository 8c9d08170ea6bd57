// Hostile inputs against dist/imgb (and packer 1.6.6 as the peer, where it has the same input):
// every case must end in an error within 5 s and 512 MiB. Peak memory is the process's maximum RSS
// as /usr/bin/time reports it. Usage: bun run bench/hostile/run.ts [OUT_DIR] [--no-packer]
// Prints a markdown table for bench/RESULTS.md; exits 1 when imgb crosses a bound.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const out = resolve(process.argv.find((a, i) => i >= 2 && !a.startsWith("--")) ?? join(root, "bench/out/hostile"));
const withPacker = !process.argv.includes("--no-packer");
mkdirSync(out, { recursive: true });

const DEEP = 100_000;
const NULL_HCL = 'source "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n';
const NULL_JSON = { type: "null", communicator: "none" };

interface Case {
  name: string;
  files: Record<string, string | Uint8Array>;
  args: string[];
  /** Packer 1.6.6 reads the same files with the same arguments. */
  packer: boolean;
}

function laughsJson(): string {
  const v: Record<string, string> = { a0: "xxxxxxxxxx" };
  for (let i = 1; i <= 11; i++) v[`a${i}`] = `{{user \`a${i - 1}\`}}`.repeat(10);
  return JSON.stringify({ variables: v, builders: [NULL_JSON] });
}

function laughsHcl(): string {
  const l = ['a0 = "xxxxxxxxxx"'];
  for (let i = 1; i <= 11; i++) l.push(`a${i} = "${`\${local.a${i - 1}}`.repeat(10)}"`);
  return `locals {\n${l.join("\n")}\n}\n${NULL_HCL}`;
}

function concatHcl(): string {
  const l = ['c0 = ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i <= 11; i++) l.push(`c${i} = concat(${Array(10).fill(`local.c${i - 1}`).join(", ")})`);
  return `locals {\n${l.join("\n")}\n}\n${NULL_HCL}`;
}

function unknownKeys(): string {
  const b: Record<string, string> = { ...NULL_JSON };
  for (let i = 0; i < 200; i++) b[`unknown_key_${i}`] = "v".repeat(40);
  return JSON.stringify({ builders: [b] });
}

const cases: Case[] = [
  { name: "JSON template, arrays nested 100k deep", files: { "t.json": `{"builders":[{"type":"null","x":${"[".repeat(DEEP)}${"]".repeat(DEEP)}}]}` }, args: ["validate", "t.json"], packer: true },
  { name: "JSON template, objects nested 100k deep", files: { "t.json": `{"builders":[{"type":"null","x":${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}}]}` }, args: ["validate", "t.json"], packer: true },
  {
    name: "JSON var file nested 100k deep",
    files: { "t.json": JSON.stringify({ variables: { a: "" }, builders: [NULL_JSON] }), "v.json": `{"a":${"[".repeat(DEEP)}${"]".repeat(DEEP)}}` },
    args: ["validate", "-var-file=v.json", "t.json"],
    packer: true,
  },
  {
    name: "Go template, {{if}} nested 100k deep",
    files: { "t.json": JSON.stringify({ builders: [NULL_JSON], provisioners: [{ type: "shell-local", inline: ["{{if true}}".repeat(DEEP) + "{{end}}".repeat(DEEP)] }] }) },
    args: ["validate", "t.json"],
    packer: true,
  },
  { name: "{{user}} billion laughs (11 levels × 10)", files: { "t.json": laughsJson() }, args: ["validate", "t.json"], packer: true },
  { name: "HCL expression nested 100k deep", files: { "t.pkr.hcl": `locals { x = ${"[".repeat(DEEP)}${"]".repeat(DEEP)} }\n${NULL_HCL}` }, args: ["validate", "t.pkr.hcl"], packer: true },
  { name: "HCL locals laughs (11 levels × 10)", files: { "t.pkr.hcl": laughsHcl() }, args: ["validate", "t.pkr.hcl"], packer: true },
  { name: "HCL concat laughs (11 levels × 10)", files: { "t.pkr.hcl": concatHcl() }, args: ["validate", "t.pkr.hcl"], packer: true },
  { name: 'HCL format("%0999999999d", 1)', files: { "t.pkr.hcl": `locals { f = format("%0999999999d", 1) }\n${NULL_HCL}` }, args: ["validate", "t.pkr.hcl"], packer: true },
  {
    name: "HCL nested join/for (16 GiB if built)",
    files: {
      "t.pkr.hcl": `locals {\n s = join("", [for i in range(1000): "${"x".repeat(16)}"])\n t = join("", [for i in range(1000): local.s])\n u = join("", [for i in range(1000): local.t])\n}\n${NULL_HCL}`,
    },
    args: ["validate", "t.pkr.hcl"],
    packer: true,
  },
  {
    name: "HCL chain of 30,000 locals nesting a value",
    files: {
      "t.pkr.hcl": `locals {\n${["a0 = 1", ...Array.from({ length: 30_000 }, (_, i) => `a${i + 1} = [local.a${i}]`)].join("\n")}\n}\n${NULL_HCL}`,
    },
    args: ["validate", "t.pkr.hcl"],
    packer: false,
  },
  { name: "13 KB minified template, 200 unknown keys", files: { "t.json": unknownKeys() }, args: ["validate", "t.json"], packer: true },
  {
    name: "5.4 MB template, 600k duplicate keys (non-ASCII)",
    files: { "t.json": `{"builders":[{"type":"null","communicator":"none","x":{${Array(600_000).fill('"k":"é"').join(",")}}}]}` },
    args: ["validate", "t.json"],
    packer: true,
  },
];

interface Measured {
  exit: number;
  seconds: number;
  rssMiB: number;
  stderrBytes: number;
  firstLine: string;
}

async function measure(argv: string[], cwd: string): Promise<Measured> {
  const timeFile = join(cwd, ".time");
  // Packer may not stop on its own: 30 s, then killed (the row then says so).
  const proc = Bun.spawn(["/usr/bin/time", "-o", timeFile, "-f", "%e %M", "timeout", "-s", "KILL", "30", ...argv], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).arrayBuffer()]);
  const exit = await proc.exited;
  const [secs, kb] = (await Bun.file(timeFile).text()).trim().split("\n").at(-1)!.split(" ");
  const text = new TextDecoder().decode(new Uint8Array(stderr).subarray(0, 4096)) || new TextDecoder().decode(new Uint8Array(stdout).subarray(0, 4096));
  return { exit, seconds: Number(secs), rssMiB: Number(kb) / 1024, stderrBytes: stderr.byteLength + stdout.byteLength, firstLine: text.split("\n").find((l) => l.trim() !== "")?.slice(0, 90) ?? "" };
}

const fmt = (m: Measured) =>
  m.exit === 137
    ? `killed after ${m.seconds.toFixed(0)} s (still running; memory not measured)`
    : `${m.seconds.toFixed(2)} s, ${Math.round(m.rssMiB)} MiB, ${m.stderrBytes < 10_000 ? `${m.stderrBytes} B` : `${(m.stderrBytes / 1e6).toFixed(2)} MB`} out, exit ${m.exit}`;

let failed = false;
const rows: string[] = [];
for (const [i, c] of cases.entries()) {
  const dir = join(out, `case-${i}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(c.files)) writeFileSync(join(dir, name), text);
  const imgb = await measure([join(root, "dist/imgb"), ...c.args], dir);
  const ok = imgb.exit === 1 && imgb.seconds < 5 && imgb.rssMiB < 512 && !/Maximum call stack|Out of memory/.test(imgb.firstLine);
  if (!ok) failed = true;
  const packer = withPacker && c.packer ? fmt(await measure(["packer", ...c.args], dir)) : "—";
  rows.push(`| ${c.name} | ${fmt(imgb)} | ${ok ? "yes" : "**no**"} | \`${imgb.firstLine.replaceAll("|", "\\|").replaceAll("`", "'")}\` | ${packer} |`);
  console.error(`${c.name}: ${fmt(imgb)}`);
}
console.log("| case | imgb | within 5 s, 512 MiB, exit 1 | imgb's first line | packer 1.6.6 |");
console.log("| --- | --- | --- | --- | --- |");
for (const r of rows) console.log(r);
process.exit(failed ? 1 : 0);
