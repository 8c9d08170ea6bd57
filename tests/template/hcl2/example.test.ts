// Packer's large multi-file example (examples/hcl/linux: locals, fileset, file, dynamic config,
// many sources and two build blocks) loads and every body decodes for every build, once the
// files it reads exist (the corpus left out its etc/ folder) and its required variables are set.
import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiagnosticsError, formatDiagnostic } from "../../../core/errors/diagnostic.ts";
import { loadHcl2Template } from "../../../core/template/hcl2/index.ts";
import { FIXTURES } from "./corpus.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("examples/hcl/linux loads, with file functions relative to the working directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "imgb-example-"));
  dirs.push(dir);
  const src = join(FIXTURES, "examples/hcl/linux");
  cpSync(src, dir, { recursive: true });
  mkdirSync(join(dir, "etc/http"), { recursive: true });
  mkdirSync(join(dir, "etc/scripts"), { recursive: true });
  for (const f of ["alpine-answers", "alpine-setup.sh", "preseed_hardcoded_ip.cfg", "preseed.cfg"]) writeFileSync(join(dir, "etc/http", f), `# ${f}\n`);
  writeFileSync(join(dir, "etc/scripts/010-update.sh"), "apt-get update\n");
  // Every variable declared without a default gets a value from the environment.
  const env: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".pkr.hcl"))) {
    const text = readFileSync(join(dir, f), "utf8");
    for (const m of text.matchAll(/variable "([^"]+)"\s*\{([^}]*)\}/g)) if (!m[2]!.includes("default")) env[`PKR_VAR_${m[1]}`] = "value";
  }
  try {
    const t = await loadHcl2Template(dir, { vars: [], varFiles: [], env }, { cwd: dir });
    expect(t.builds.length).toBeGreaterThan(3);
    const problems: string[] = [];
    for (const b of t.builds) {
      const ctx = { buildName: b.name, sourceName: b.sourceName, builderType: b.builderType, generated: {}, placeholders: true };
      for (const body of [b.builder, ...b.provisioners.map((p) => p.config), ...b.postProcessors.flat().map((p) => p.config)]) {
        problems.push(...body.decode(ctx).diagnostics.map(formatDiagnostic));
      }
    }
    expect(problems).toEqual([]);
  } catch (e) {
    if (e instanceof DiagnosticsError) throw new Error(e.diagnostics.map(formatDiagnostic).join("\n"));
    throw e;
  }
});
