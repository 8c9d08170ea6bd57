// packer-plugin-sdk template fixtures and their expectations (corpus packer-sdk-fixtures/EXPECTATIONS/
// template.json): parse-level structure, parse errors with Packer's line/column/offset, and validation.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DiagnosticsError, formatDiagnostic, type Diagnostic } from "../../../core/errors/diagnostic.ts";
import { decodeRawTemplate } from "../../../core/template/json/raw-template.ts";
import { loadJsonTemplate } from "../../../core/template/json/loader.ts";
import { parseJson, toJsonValue } from "../../../core/template/json/positioned-json.ts";
import { SourceFile } from "../../../core/source/source-file.ts";
import { jsonSyntaxDiagnostic } from "../../../core/template/json/syntax-error.ts";
import { skipFor } from "../../../core/template/json/validate.ts";

const CORPUS = "/work/shared/corpus/packer-sdk-fixtures";
const FIXTURES = join(CORPUS, "template/test-fixtures");
const EXPECT = JSON.parse(readFileSync(join(CORPUS, "EXPECTATIONS/template.json"), "utf8")) as {
  parse: Array<Record<string, unknown> & { file: string; error: boolean }>;
  parseErrors: Array<{ file: string; errorContains: string }>;
  validate: Array<{ file: string; validateError: boolean }>;
  onlyExceptSkip: Array<{ only: string[] | null; except: string[] | null; input: string; skip: boolean }>;
};

/** Parse stage only (Packer's template.Parse): syntax, duplicates, structure. */
function parseStage(file: string): { raw?: ReturnType<typeof decodeRawTemplate>["raw"]; diagnostics: Diagnostic[]; src: SourceFile } {
  const src = new SourceFile(join(FIXTURES, file), readFileSync(join(FIXTURES, file), "utf8"));
  const parsed = parseJson(src);
  if (!parsed.ok) return { diagnostics: [jsonSyntaxDiagnostic(src, parsed.error)], src };
  const { raw, diagnostics } = decodeRawTemplate(src, parsed.node);
  return { raw, diagnostics, src };
}

const text = (d: Diagnostic[]) => d.map((x) => `${formatDiagnostic(x)}`).join("\n");

describe("sdk parse fixtures", () => {
  for (const c of EXPECT.parse) {
    test(c.file, () => {
      const { raw, diagnostics, src } = parseStage(c.file);
      if (c.error) {
        expect(diagnostics.length).toBeGreaterThan(0);
        for (const d of diagnostics) expect(d.range?.filename).toBe(src.filename);
        return;
      }
      expect(text(diagnostics.filter((d) => d.severity === "error"))).toBe("");
      if (!raw) throw new Error("no template");
      if (c.builders) {
        const want = c.builders as Record<string, { type: string; config?: string }>;
        expect(raw.builders.map((b) => b.name)).toEqual(Object.keys(want));
        for (const b of raw.builders) {
          expect(b.type).toBe(want[b.name]!.type);
          // "config": other keys are kept as the builder's config; type/name are not part of it.
          expect(b.config.length > 0).toBe(want[b.name]!.config !== undefined);
          expect(b.config.map((m) => m.key.value)).not.toContain("type");
        }
      }
      if (c.provisioners) {
        const want = c.provisioners as Array<Record<string, unknown>>;
        expect(raw.provisioners.length).toBe(want.length);
        raw.provisioners.forEach((p, i) => {
          const w = want[i]!;
          expect(p.type).toBe(w.type as string);
          if (w.config) expect(p.config.map((m) => m.key.value)).toEqual(["inline"]);
          else expect(p.config).toEqual([]);
          if (w.pause_before) expect(p.pauseBeforeMs).toBe(1000);
          if (w.max_retries) expect(p.maxRetries).toBe(w.max_retries as string);
          if (w.timeout) expect(p.timeoutMs).toBe(5 * 60_000);
          expect(p.only).toEqual((w.only as string[]) ?? []);
          expect(p.except).toEqual((w.except as string[]) ?? []);
          if (w.override) expect([...p.override.keys()]).toEqual(Object.keys(w.override as object));
        });
      }
      if (c.variables) {
        const want = c.variables as Record<string, { default: string; required: boolean }>;
        expect(Object.fromEntries(raw.variables.map((v) => [v.name, { default: v.default, required: v.required }]))).toEqual(want);
      }
      if (c.post_processors) {
        const want = c.post_processors as Array<Array<Record<string, unknown>>>;
        const got = raw.postProcessors.map((chain) =>
          chain.map((pp) => {
            const o: Record<string, unknown> = { name: pp.name, type: pp.type };
            if (pp.keepInputArtifact !== undefined) o.keep_input_artifact = pp.keepInputArtifact;
            if (pp.only.length) o.only = pp.only;
            if (pp.except.length) o.except = pp.except;
            return o;
          }),
        );
        expect(got).toEqual(want);
      }
      if (c.description !== undefined) expect(raw.description).toBe(c.description as string);
      if (c.min_packer_version !== undefined) expect(raw.minVersion).toBe(c.min_packer_version as string);
      if (c.comments) expect(raw.comments).toEqual(c.comments as Record<string, string>);
      if (c.rawContentsTrimmed) {
        const again = parseJson(src);
        expect(again.ok && JSON.stringify(toJsonValue(again.node))).toBe(c.rawContentsTrimmed as string);
      }
      if (c.file === "parse-monolithic.json") {
        expect(raw.description).toBe("Description Test");
        expect(raw.minVersion).toBe("1.3.0");
        expect(raw.sensitiveVariables).toEqual(["one"]);
        expect(raw.builders.map((b) => b.name)).toEqual(["amazon-ebs", "docker"]);
        expect(raw.provisioners[1]!.override.has("docker")).toBe(true);
        expect(raw.postProcessors.map((ch) => ch.map((p) => p.type))).toEqual([["compress", "vagrant"], ["shell-local"]]);
        expect(raw.postProcessors[0]![1]!.only).toEqual(["docker"]);
        expect(raw.postProcessors[1]![0]!.except).toEqual(["amazon-ebs"]);
      }
    });
  }
});

describe("sdk parse errors", () => {
  for (const c of EXPECT.parseErrors) {
    test(c.file, () => {
      const { diagnostics } = parseStage(c.file);
      expect(diagnostics.length).toBeGreaterThan(0);
      const all = diagnostics.map((d) => `${d.summary}\n${d.detail ?? ""}`).join("\n");
      expect(all).toContain(c.errorContains);
    });
  }

  test("syntax errors point at the exact character, with Packer's excerpt", () => {
    const { diagnostics } = parseStage("error-middle.json");
    const d = diagnostics[0]!;
    expect(d.range?.start).toEqual({ line: 5, column: 5, byte: 49 });
    expect(d.summary).toBe("Error parsing JSON: invalid character '}' looking for beginning of object key string");
    expect(d.detail).toBe(
      "At line 5, column 6 (offset 50):\n" + '    4:       "type":"test",\n' + "    5:     }\n" + "           ^\n",
    );
  });

  test("duplicate keys are reported at the later key", () => {
    const { diagnostics } = parseStage("error-duplicate-variables.json");
    expect(diagnostics[0]!.summary).toBe("template has duplicate field: variables");
    expect(diagnostics[0]!.range?.start.line).toBe(5);
    expect(diagnostics[0]!.range?.start.column).toBe(3);
  });
});

describe("sdk validate fixtures", () => {
  for (const c of EXPECT.validate) {
    test(c.file, async () => {
      let err: unknown;
      try {
        await loadJsonTemplate(join(FIXTURES, c.file), { vars: [], varFiles: [], env: {} });
      } catch (e) {
        err = e;
      }
      if (c.validateError) {
        expect(err).toBeInstanceOf(DiagnosticsError);
        for (const d of (err as DiagnosticsError).diagnostics) expect(d.range).toBeDefined();
      } else expect(err).toBeUndefined();
    });
  }
});

describe("only/except skip", () => {
  for (const c of EXPECT.onlyExceptSkip) {
    test(`only=${JSON.stringify(c.only)} except=${JSON.stringify(c.except)} ${c.input}`, () => {
      expect(skipFor({ only: c.only ?? [], except: c.except ?? [] }, c.input)).toBe(c.skip);
    });
  }
});
