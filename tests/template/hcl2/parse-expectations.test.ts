// Packer's own hcl2template parse table (EXPECTATIONS/hcl2template-parse.json): every fixture either
// loads (and every body evaluates for every build against the stub component set) or fails with
// positioned diagnostics.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DiagnosticsError, type Diagnostic } from "../../../core/errors/diagnostic.ts";
import { loadHcl2Template } from "../../../core/template/hcl2/index.ts";
import type { Hcl2LoadExtras } from "../../../core/template/hcl2/index.ts";
import { EXPECTATIONS, FIXTURES, checkAgainstStubs } from "./corpus.ts";

interface ParseCase {
  name: string;
  path: string;
  varFiles?: string[];
  wantErrors: boolean;
}

const table = JSON.parse(readFileSync(join(EXPECTATIONS, "hcl2template-parse.json"), "utf8")) as { cases: ParseCase[] };
const cwd = join(FIXTURES, "hcl2template");

/** Upstream registers `amazon-ami` (a mock whose outputs are its inputs) and `null`, which is built in. */
const extras: Hcl2LoadExtras = {
  cwd,
  packerVersion: "1.5.0",
  dataSources: { "amazon-ami": { execute: (config) => config } },
};

async function outcome(c: ParseCase): Promise<Diagnostic[]> {
  try {
    const t = await loadHcl2Template(join(cwd, c.path), {
      vars: [],
      varFiles: (c.varFiles ?? []).map((f) => join(cwd, f)),
      env: {},
    }, extras);
    return checkAgainstStubs(t);
  } catch (err) {
    if (err instanceof DiagnosticsError) return err.diagnostics;
    throw err;
  }
}

describe("hcl2template parse table", () => {
  expect(table.cases.length).toBe(53);
  for (const c of table.cases) {
    test(`${c.wantErrors ? "error" : "ok"}: ${c.name} (${c.path})`, async () => {
      const diags = await outcome(c);
      if (c.wantErrors) {
        expect(diags.length).toBeGreaterThan(0);
        // Loader diagnostics carry the file they are about.
        for (const d of diags.filter((d) => d.range)) expect(d.range!.filename).toContain("testdata");
      } else {
        expect(diags.map((d) => `${d.range?.filename}:${d.range?.start.line}: ${d.summary}; ${d.detail}`)).toEqual([]);
      }
    });
  }
});
