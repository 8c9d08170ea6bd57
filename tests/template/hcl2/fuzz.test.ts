// Mutated corpus templates (byte flips, truncations, insertions of HCL punctuation) must load or
// fail with a DiagnosticsError — never another exception, never a hang. Seeded, so a failure
// reproduces; bounded in count and time.
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiagnosticsError } from "../../../core/errors/diagnostic.ts";
import { loadHcl2Template } from "../../../core/template/hcl2/index.ts";
import { rng } from "../../support/fuzz.ts";
import { FIXTURES, PERMISSIVE } from "./corpus.ts";

function corpusFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) corpusFiles(p, out);
    else if (e.endsWith(".pkr.hcl") || e.endsWith(".pkr.json")) out.push(p);
  }
  return out;
}


const TOKENS = ["{", "}", "[", "]", "(", ")", "=", '"', "${", "%{", "\n", ".", ",", "*", "...", "<<EOF\n", "#", "local.", "var.", "source", "build {", "dynamic", "\\", "\u00e9", "\t"];

function mutate(src: string, r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  let s = src;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 4)) {
      case 0:
        s = s.slice(0, at);
        break;
      case 1:
        s = s.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
        break;
      default:
        s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + s.slice(at + 1);
    }
  }
  return s;
}

test("mutated corpus templates: positioned diagnostics or success, never a crash", async () => {
  const files = [...corpusFiles(join(FIXTURES, "hcl2template/testdata")), ...corpusFiles(join(FIXTURES, "command/test-fixtures"))];
  expect(files.length).toBeGreaterThan(50);
  const dir = mkdtempSync(join(tmpdir(), "imgb-fuzz-"));
  const r = rng(20261123);
  const deadline = Date.now() + 8000;
  let runs = 0;
  let failures = 0;
  let loaded = 0;
  try {
    while (Date.now() < deadline && runs < 3000) {
      const picked = files[Math.floor(r() * files.length)]!;
      const src = readFileSync(picked, "utf8");
      const mutated = mutate(src, r);
      const file = join(dir, picked.endsWith(".json") ? "t.pkr.json" : "t.pkr.hcl");
      rmSync(join(dir, "t.pkr.hcl"), { force: true });
      rmSync(join(dir, "t.pkr.json"), { force: true });
      writeFileSync(file, mutated);
      runs++;
      try {
        const t = await loadHcl2Template(file, { vars: [], varFiles: [], env: {} }, { cwd: dir });
        for (const b of t.builds) {
          const ctx = { buildName: b.name, sourceName: b.sourceName, builderType: b.builderType, generated: {}, placeholders: true };
          b.builder.decode(ctx, PERMISSIVE);
          for (const p of b.provisioners) p.config.decode(ctx, PERMISSIVE);
        }
        loaded++;
      } catch (e) {
        if (!(e instanceof DiagnosticsError)) {
          failures++;
          console.error(`crash on mutated input (run ${runs}):\n${mutated}\n${(e as Error).stack}`);
        } else {
          expect(e.diagnostics.length).toBeGreaterThan(0);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(failures).toBe(0);
  expect(runs).toBeGreaterThan(200);
  // Mutations that keep the template valid exercise the decoding paths too.
  expect(loaded).toBeGreaterThan(runs / 50);
}, 20000);
