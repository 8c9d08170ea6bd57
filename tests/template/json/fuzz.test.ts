// Fuzzing the legacy JSON template path (parser, variables, Go templates, decoding) two ways:
// byte-level mutations of Packer's fixture templates, and structure-aware generation of templates
// with Go template actions, nesting and repetition. Every input loads or fails with a
// DiagnosticsError — never another exception — and no single input takes 3 s (5 s is the bound, bench/hostile).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiagnosticsError } from "../../../core/errors/diagnostic.ts";
import { loadJsonTemplate } from "../../../core/template/json/loader.ts";
import { FUZZ_SEED, fuzzBudgetMs, int, mutateBytes, pick, rng, type Rng } from "../../support/fuzz.ts";
import { checkAgainstStubs, FIXTURES } from "../hcl2/corpus.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-json-fuzz-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function jsonFixtures(d: string, out: string[] = []): string[] {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    const st = statSync(p);
    if (st.isDirectory()) jsonFixtures(p, out);
    else if (e.endsWith(".json") && !e.endsWith(".pkr.json") && st.size < 16_000) out.push(p);
  }
  return out;
}

/** Loads and decodes every build, as validate does; returns what went wrong other than diagnostics. */
async function exercise(text: Uint8Array | string, name: string): Promise<{ crash?: string; ms: number; loaded: boolean }> {
  const file = join(dir, name);
  writeFileSync(file, text);
  const started = performance.now();
  try {
    checkAgainstStubs(await loadJsonTemplate(file, { vars: [], varFiles: [], env: { HOME: "/home/fuzz" } }));
    return { ms: performance.now() - started, loaded: true };
  } catch (e) {
    if (e instanceof DiagnosticsError) {
      for (const d of e.diagnostics) {
        if (d.range && (d.range.start.line < 1 || d.range.start.column < 1)) return { crash: `bad position ${JSON.stringify(d.range)}`, ms: 0, loaded: false };
      }
      return { ms: performance.now() - started, loaded: false };
    }
    return { crash: (e as Error).stack ?? String(e), ms: 0, loaded: false };
  }
}

const JSON_TOKENS = ["{", "}", "[", "]", ",", ":", '"', "\\", "\\u00", "{{", "}}", "{{user `", "{{ .Name }}", "null", "1e999", "-", "\n", "é", "\u0000"];

test("byte-level: mutated fixture templates load or fail with diagnostics", async () => {
  const files = jsonFixtures(FIXTURES);
  expect(files.length).toBeGreaterThan(30);
  const sources = files.map((f) => readFileSync(f));
  const r = rng(FUZZ_SEED);
  const deadline = performance.now() + fuzzBudgetMs(2000);
  let runs = 0;
  let loaded = 0;
  let slowest = 0;
  while (performance.now() < deadline) {
    const input = mutateBytes(pick(r, sources), r, JSON_TOKENS);
    const res = await exercise(input, "mutated.json");
    runs++;
    if (res.crash) throw new Error(`crash on ${JSON.stringify(Buffer.from(input).toString("latin1"))}:\n${res.crash}`);
    if (res.loaded) loaded++;
    slowest = Math.max(slowest, res.ms);
  }
  console.log(`json byte fuzz: ${runs} inputs, ${loaded} loaded, slowest ${Math.round(slowest)} ms`);
  expect(runs).toBeGreaterThan(50);
  expect(slowest).toBeLessThan(3000);
}, 600_000);

/** Go template text: real actions, broken ones, nesting and amplification. */
function goTemplate(r: Rng, vars: string[]): string {
  const v = () => (vars.length ? pick(r, vars) : "missing");
  const pieces = [
    () => "plain text ",
    () => `{{user \`${v()}\`}}`,
    () => "{{ .Name }}",
    () => "{{build_name}}",
    () => "{{timestamp}}",
    () => "{{uuid}}",
    () => `{{if true}}${goTemplate(r, vars)}{{else}}y{{end}}`,
    () => `{{printf "%0${pick(r, ["5", "20", "99999999"])}d" 3}}`,
    () => `{{${"(".repeat(int(r, 400))}1${")".repeat(int(r, 400))}}}`,
    () => `${"{{if true}}".repeat(int(r, 400))}x${"{{end}}".repeat(int(r, 400))}`,
    () => `{{ replace_all "" (user \`${v()}\`) (user \`${v()}\`) }}`,
    () => `{{ split "a,b,c" "," ${int(r, 5)} }}`,
    () => "{{env `HOME`}}",
    () => "{{",
    () => "}}",
    () => "{{ nosuchfunc }}",
    () => "\ud800",
  ];
  let s = "";
  const n = 1 + int(r, 4);
  for (let i = 0; i < n; i++) s += pick(r, pieces)();
  return s;
}

function value(r: Rng, vars: string[], depth: number): unknown {
  const k = int(r, depth > 4 ? 4 : 7);
  if (k === 0) return goTemplate(r, vars);
  if (k === 1) return pick(r, [0, -1, 1e308, 3.5, true, false, null]);
  if (k === 2) return "x".repeat(int(r, 50));
  if (k === 3) return goTemplate(r, vars);
  if (k === 4) return Array.from({ length: int(r, 4) }, () => value(r, vars, depth + 1));
  if (k === 5) return Object.fromEntries(Array.from({ length: int(r, 4) }, (_, i) => [`k${i}`, value(r, vars, depth + 1)]));
  // Hostile nesting, sometimes past the limit.
  let deep: unknown = 1;
  for (let i = int(r, 600); i > 0; i--) deep = r() < 0.5 ? [deep] : { a: deep };
  return deep;
}

function generateTemplate(r: Rng): unknown {
  const vars = Array.from({ length: int(r, 6) }, (_, i) => `v${i}`);
  const variables: Record<string, unknown> = {};
  for (const name of vars) variables[name] = r() < 0.2 ? value(r, vars, 3) : goTemplate(r, vars).repeat(1 + int(r, 10));
  const builder: Record<string, unknown> = { type: "null", communicator: "none" };
  if (r() < 0.5) builder.name = goTemplate(r, vars);
  for (let i = int(r, 3); i > 0; i--) builder[pick(r, ["communicator", "x", "ssh_host", "unknown"])] = value(r, vars, 0);
  const provisioner: Record<string, unknown> = { type: pick(r, ["shell-local", "shell", "file", "breakpoint"]) };
  provisioner.inline = Array.from({ length: 1 + int(r, 3) }, () => goTemplate(r, vars));
  if (r() < 0.5) provisioner.environment_vars = [`A=${goTemplate(r, vars)}`];
  if (r() < 0.3) provisioner.override = { null: { inline: [goTemplate(r, vars)] } };
  const t: Record<string, unknown> = { variables, builders: [builder], provisioners: [provisioner] };
  if (r() < 0.3) t["sensitive-variables"] = vars.slice(0, int(r, vars.length + 1));
  if (r() < 0.3) t["post-processors"] = [value(r, vars, 2)];
  if (r() < 0.2) t[pick(r, ["min_packer_version", "description", "bogus"])] = value(r, vars, 2);
  return t;
}

test("structure-aware: generated templates with actions, nesting and amplification", async () => {
  const r = rng(FUZZ_SEED + 1);
  const deadline = performance.now() + fuzzBudgetMs(2500);
  let runs = 0;
  let loaded = 0;
  let slowest = 0;
  while (performance.now() < deadline) {
    const text = JSON.stringify(generateTemplate(r));
    const res = await exercise(text, "generated.json");
    runs++;
    if (res.crash) throw new Error(`crash on ${text.slice(0, 4000)}:\n${res.crash}`);
    if (res.loaded) loaded++;
    slowest = Math.max(slowest, res.ms);
  }
  console.log(`json structure fuzz: ${runs} inputs, ${loaded} loaded, slowest ${Math.round(slowest)} ms`);
  expect(runs).toBeGreaterThan(30);
  expect(loaded).toBeGreaterThan(0);
  expect(slowest).toBeLessThan(3000);
}, 600_000);
