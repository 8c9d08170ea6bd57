// Mutation fuzzing over the corpus's HCL files: byte flips, truncations, insertions and
// deletions. Every input must parse (and, when it parses, evaluate and format) without an
// exception other than positioned diagnostics, within a fixed time budget.
import { CORPUS } from "./corpus.ts";
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "../../core/errors/diagnostic.ts";
import { DiagnosticsError } from "../../core/errors/diagnostic.ts";
import { EvalContext, formatHcl, parseHcl, parseHclJson, standardFunctions, type Body } from "../../core/hcl/index.ts";

const BUDGET_MS = 8000;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    const st = statSync(p);
    return st.isDirectory() ? walk(p) : /\.(hcl|pkr\.json|hcl\.json|t|hcldec)$/.test(e) && st.size < 20000 ? [p] : [];
  });
}

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = ["{", "}", "[", "]", "(", ")", '"', "${", "%{", "~}", "<<EOT\n", "\nEOT\n", "\n", ",", "=", ":", "?", "...", ".*", "[*]", "#", "/*", "*/", "\\", "\t", "é", "😀", "for ", " in ", "if ", "=>", "-", "!", "0.1e5", "null", "\r\n", "\u0000"];

function mutate(src: string, r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  let s = src;
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 5);
    if (op === 0) s = s.slice(0, pos); // truncate
    else if (op === 1) s = s.slice(0, pos) + INSERTS[Math.floor(r() * INSERTS.length)] + s.slice(pos);
    else if (op === 2) s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(r() * 8)); // delete
    else if (op === 3) s = s.slice(0, pos) + String.fromCharCode(Math.floor(r() * 128)) + s.slice(pos + 1); // flip
    else s = s.slice(0, pos) + s.slice(Math.floor(r() * s.length), Math.floor(r() * s.length)) + s.slice(pos); // splice
  }
  return s;
}

function checkPositions(src: string, diags: Diagnostic[]): void {
  const bytes = Buffer.byteLength(src, "utf8");
  for (const d of diags) {
    if (d.severity !== "error") continue;
    if (!d.range) throw new Error(`unpositioned error: ${d.summary}`);
    const { start, end } = d.range;
    if (start.line < 1 || start.column < 1 || start.byte < 0 || end.byte > bytes || end.byte < start.byte) {
      throw new Error(`bad range for ${d.summary}: ${JSON.stringify(d.range)}`);
    }
  }
}

const fns = standardFunctions({ baseDir: "/nonexistent-imgb-fuzz" });
// File-walking functions could scan the machine if a mutation produced fileset("/", "**").
for (const k of ["fileset", "file", "templatefile", "fileexists", "abspath"]) delete fns[k];
const ctx = new EvalContext({}, fns);

function exercise(body: Body, depth = 0): void {
  if (depth > 20) return;
  const { attributes } = body.justAttributes();
  for (const a of Object.values(attributes)) {
    a.expr.evaluate(ctx);
    a.expr.variables();
  }
  const { content } = body.partialContent({});
  void content;
}

test("mutated corpus files never crash the parser, evaluator or formatter", () => {
  const files = walk(CORPUS).sort();
  expect(files.length).toBeGreaterThan(100);
  const sources = files.map((f) => [f, readFileSync(f, "utf8")] as const);
  const r = rng(20261123);
  const started = performance.now();
  let cases = 0;
  let parsedOk = 0;
  const nonIdempotent: string[] = [];
  while (performance.now() - started < BUDGET_MS && cases < 20000) {
    const [file, src] = sources[Math.floor(r() * sources.length)]!;
    const input = mutate(src, r);
    cases++;
    try {
      if (file.endsWith(".json")) {
        const { file: f, diagnostics } = parseHclJson(input, file);
        checkPositions(input, diagnostics);
        exercise(f.body);
        continue;
      }
      const { file: f, diagnostics } = parseHcl(input, file);
      checkPositions(input, diagnostics);
      exercise(f.body);
      if (diagnostics.length === 0) {
        parsedOk++;
        const formatted = formatHcl(input, file);
        expect(parseHcl(formatted, file).diagnostics).toEqual([]);
        if (formatHcl(formatted, file) !== formatted) nonIdempotent.push(input);
      }
    } catch (e) {
      if (e instanceof DiagnosticsError) continue;
      throw new Error(`crash on a mutation of ${file}: ${(e as Error).stack}\n--- input ---\n${JSON.stringify(input)}`);
    }
  }
  console.log(`fuzz: ${cases} cases in ${Math.round(performance.now() - started)} ms, ${parsedOk} still parsed`);
  expect(cases).toBeGreaterThan(1000);
  expect(nonIdempotent.slice(0, 3)).toEqual([]);
}, 30000);
