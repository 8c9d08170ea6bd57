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

/** Why each error case fails here: a fixture must fail for its own reason, not a neighbour's. */
const WHY: Record<string, string> = {
  "testdata/hcp_par/invalid.pkr.hcl": "Unsupported argument",
  "testdata/hcp_par/long-description.pkr.hcl": "Invalid hcp_packer_registry config",
  "testdata/build/basic.pkr.hcl": "Unknown source amazon-ebs.ubuntu-1604",
  "testdata/build/provisioner_untyped.pkr.hcl": "Unsupported block type",
  "testdata/build/provisioner_nonexistent.pkr.hcl": "Unknown provisioner nonexistent",
  "testdata/build/two-error-cleanup-provisioner.pkr.hcl": "Duplicate error-cleanup-provisioner block",
  "testdata/build/post-processor_untyped.pkr.hcl": "Unsupported block type",
  "testdata/build/post-processor_nonexistent.pkr.hcl": "Unknown post-processor nonexistent",
  "testdata/build/invalid_source_reference.pkr.hcl": "Invalid source reference",
  "testdata/build/named.pkr.hcl": "Unknown source amazon-ebs.ubuntu-1604",
  "testdata/build/invalid_build_name_variable.pkr.hcl": "Invalid type specification",
  "testdata/datasources/untyped.pkr.hcl": "Missing type for data",
  "testdata/datasources/unnamed.pkr.hcl": "Missing name for data",
  "testdata/datasources/nonexistent.pkr.hcl": "Unknown data source type",
  "testdata/datasources/duplicate.pkr.hcl": "Duplicate data block",
  "testdata/datasources/dependency_cycle.pkr.hcl": "Cyclic dependency",
  "testdata/init/duplicate_required_plugins": "Attribute redefined",
  "testdata/init/invalid_inexplicit_source.pkr.hcl": "Invalid plugin source",
  "testdata/init/invalid_short_source.pkr.hcl": "Invalid required_plugins entry",
  "testdata/init/invalid_inexplicit_source_2.pkr.hcl": "Invalid plugin source",
  "testdata/sources/untyped.pkr.hcl": "Missing type for source",
  "testdata/sources/unnamed.pkr.hcl": "Missing name for source",
  "testdata/sources/nonexistent.pkr.hcl": "missing source reference",
  "testdata/sources/nonexistent_used.pkr.hcl": "Unknown builder nonexistent",
  "testdata/sources/duplicate.pkr.hcl": "Duplicate source block",
  "testdata/variables/duplicate_variable.pkr.hcl": "Duplicate variable",
  "testdata/variables/duplicate_variables.pkr.hcl": "Duplicate variable",
  "testdata/variables/duplicate_locals": "Duplicate local definition",
  "testdata/variables/invalid_default.pkr.hcl": "Invalid default value for variable",
  "testdata/variables/unknown_key.pkr.hcl": "Unsupported argument",
  "testdata/variables/unset_used_string_variable.pkr.hcl": 'Unset variable "foo"',
  "testdata/variables/unset_unused_string_variable.pkr.hcl": 'Unset variable "foo"',
  "testdata/variables/recursive_locals.pkr.hcl": "Cyclic dependency",
  "testdata/variables/validation/invalid_default.pkr.hcl": "Invalid value for variable",
};

describe("hcl2template parse table", () => {
  expect(table.cases.length).toBe(53);
  for (const c of table.cases) {
    test(`${c.wantErrors ? "error" : "ok"}: ${c.name} (${c.path})`, async () => {
      const diags = await outcome(c);
      if (c.wantErrors) {
        expect(diags.length).toBeGreaterThan(0);
        expect(diags[0]!.summary).toBe(WHY[c.path]!);
        // Loader diagnostics carry the file they are about.
        for (const d of diags.filter((d) => d.range)) expect(d.range!.filename).toContain("testdata");
      } else {
        expect(diags.map((d) => `${d.range?.filename}:${d.range?.start.line}: ${d.summary}; ${d.detail}`)).toEqual([]);
      }
    });
  }
});
