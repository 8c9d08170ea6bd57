// templatefile() as a template uses it (EXPECTATIONS/hcl2template-templatefile.json): through the
// loader, with the working directory at hcl2template/function as upstream's test.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiagnosticsError, formatDiagnostic } from "../../../core/errors/diagnostic.ts";
import { loadHcl2Template } from "../../../core/template/hcl2/index.ts";
import type { JsonValue } from "../../../core/values/json.ts";
import { EXPECTATIONS, FIXTURES } from "./corpus.ts";

const cwd = join(FIXTURES, "hcl2template/function");
const table = JSON.parse(readFileSync(join(EXPECTATIONS, "hcl2template-templatefile.json"), "utf8")) as {
  cases: Array<{ path: string; vars: Record<string, JsonValue>; varsType?: "map" | "object"; want?: JsonValue; error?: string }>;
};
const scratch = mkdtempSync(join(tmpdir(), "imgb-templatefile-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// The corpus has no binary icon.png; a file that is not UTF-8 stands in for it.
const binary = join(scratch, "icon.png");
writeFileSync(binary, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00, 0xc3]));

function hclOf(v: JsonValue, asMap: boolean): string {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const body = Object.entries(v).map(([k, e]) => `${JSON.stringify(k)} = ${hclOf(e, false)}`).join(", ");
    return asMap ? `tomap({${body}})` : `{${body}}`;
  }
  return JSON.stringify(v);
}

describe("templatefile", () => {
  table.cases.forEach((c) => {
    test(`${c.path} ${JSON.stringify(c.vars)}`, async () => {
      const path = c.path === "testdata/icon.png" ? binary : c.path;
      const file = join(scratch, `t${Math.random().toString(36).slice(2)}.pkr.hcl`);
      writeFileSync(
        file,
        `locals {\n  r = templatefile(${JSON.stringify(path)}, ${hclOf(c.vars, c.varsType === "map")})\n}\nsource "null" "a" {\n  result = local.r\n}\nbuild {\n  sources = ["null.a"]\n}\n`,
      );
      try {
        const t = await loadHcl2Template(file, { vars: [], varFiles: [], env: {} }, { cwd });
        const b = t.builds[0]!;
        const v = b.builder.decode({ buildName: b.name, sourceName: b.sourceName, builderType: b.builderType, generated: {}, placeholders: false });
        expect(c.error).toBeUndefined();
        expect(v.value.result).toEqual(c.want!);
      } catch (e) {
        if (!(e instanceof DiagnosticsError)) throw e;
        const text = e.diagnostics.map(formatDiagnostic).join("\n");
        expect(c.error).toBeDefined();
        expect(text).toContain(c.error!.replace("testdata/icon.png", binary));
      }
    });
  });
});
