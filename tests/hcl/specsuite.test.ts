// Runs HCL's implementation-agnostic spec suite (hcl-specsuite/specsuite/tests): every case's
// .hcl input is decoded with its .hcldec spec and compared with the .t expectations, with
// diagnostics ranges compared exactly.
import { CORPUS } from "./corpus.ts";
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import type { Diagnostic, SourceRange } from "../../core/errors/diagnostic.ts";
import { EvalContext } from "../../core/hcl/context.ts";
import { convert } from "../../core/hcl/convert.ts";
import { decodeSpec } from "../../core/hcl/decoder.ts";
import { parseHclJson } from "../../core/hcl/json.ts";
import { Num } from "../../core/hcl/num.ts";
import { parseHcl } from "../../core/hcl/parse.ts";
import { parseTypeExpr } from "../../core/hcl/typeexpr.ts";
import { T, type Type, typeString } from "../../core/hcl/types.ts";
import { rawEquals, toJsonLoose, type Value } from "../../core/hcl/value.ts";
import { readSpecFile } from "./hcldec.ts";

const ROOT = `${CORPUS}/hcl-specsuite/specsuite/tests`;

function findCases(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findCases(p));
    else if (e.endsWith(".t")) out.push(p.slice(0, -2));
  }
  return out;
}

function conforms(have: Type, want: Type): boolean {
  if (want.kind === "dynamic") return true;
  if (have.kind !== want.kind) return false;
  switch (want.kind) {
    case "list":
    case "set":
    case "map":
      return conforms((have as typeof want).elem, want.elem);
    case "tuple": {
      const h = have as typeof want;
      return h.elems.length === want.elems.length && want.elems.every((t, i) => conforms(h.elems[i]!, t));
    }
    case "object": {
      const h = have as typeof want;
      const wk = Object.keys(want.attrs).sort();
      const hk = Object.keys(h.attrs).sort();
      return wk.join() === hk.join() && wk.every((k) => conforms(h.attrs[k]!, want.attrs[k]!));
    }
    default:
      return true;
  }
}

interface Expectation {
  result?: Value;
  resultType: Type;
  diagnostics?: Array<{ severity: string; from: SourceRange["start"]; to: SourceRange["end"] }>;
  traversals?: number;
}

function readExpectations(path: string): Expectation {
  const { file, diagnostics } = parseHcl(readFileSync(path, "utf8"), path);
  if (diagnostics.length) throw new Error(`${path}: ${diagnostics.map((d) => d.summary).join("; ")}`);
  const { content } = file.body.content({
    attributes: [{ name: "result" }, { name: "result_type" }],
    blocks: [{ type: "diagnostics" }, { type: "traversals" }],
  });
  const exp: Expectation = { resultType: T.dynamic };
  if (content.attributes.result_type) exp.resultType = parseTypeExpr(content.attributes.result_type.expr).type;
  if (content.attributes.result) exp.result = content.attributes.result.expr.evaluate().value;
  for (const b of content.blocks) {
    if (b.type === "traversals") {
      exp.traversals = b.body.content({ blocks: [{ type: "expect" }] }).content.blocks.length;
      continue;
    }
    exp.diagnostics = [];
    const { content: dc } = b.body.content({ blocks: [{ type: "error" }, { type: "warning" }] });
    for (const d of dc.blocks) {
      const { content: rc } = d.body.content({ blocks: [{ type: "from" }, { type: "to" }] });
      const pos = (blk: (typeof rc.blocks)[number]) => {
        const { attributes } = blk.body.justAttributes();
        const n = (k: string) => attributes[k]!.expr.evaluate().value.num.toNumber();
        return { line: n("line"), column: n("column"), byte: n("byte") };
      };
      const from = rc.blocks.find((x) => x.type === "from")!;
      const to = rc.blocks.find((x) => x.type === "to")!;
      exp.diagnostics.push({ severity: d.type, from: pos(from), to: pos(to) });
    }
  }
  return exp;
}

function runCase(base: string, inputPath: string): { value?: Value; diagnostics: Diagnostic[]; refs: number } {
  const { spec, variables } = readSpecFile(readFileSync(base + ".hcldec", "utf8"), base + ".hcldec");
  const src = readFileSync(inputPath, "utf8");
  const parsed = inputPath.endsWith(".json") ? parseHclJson(src, inputPath) : parseHcl(src, inputPath);
  if (parsed.diagnostics.some((d) => d.severity === "error")) return { diagnostics: parsed.diagnostics, refs: 0 };
  const ctx = new EvalContext(variables);
  const r = decodeSpec(parsed.file.body, spec, ctx);
  const { attributes } = parsed.file.body.justAttributes();
  const refs = spec.kind === "literal" ? 0 : Object.values(attributes).reduce((n, a) => n + a.expr.variables().length, 0);
  return { value: r.value, diagnostics: [...parsed.diagnostics, ...r.diagnostics], refs };
}

const cases = findCases(ROOT);

describe("hcl spec suite", () => {
  test("has all 15 cases", () => {
    expect(cases.length).toBe(15);
  });
  for (const base of cases) {
    const inputs = [base + ".hcl", ...(existsSync(base + ".hcl.json") ? [base + ".hcl.json"] : [])];
    for (const input of inputs) {
      test(relative(ROOT, input), () => {
        const exp = readExpectations(base + ".t");
        const got = runCase(base, input);
        if (exp.diagnostics) {
          const norm: Expectation["diagnostics"] = got.diagnostics.map((d) => ({ severity: d.severity as string, from: d.range!.start, to: d.range!.end }));
          expect(norm).toEqual(exp.diagnostics as NonNullable<Expectation["diagnostics"]>);
          return;
        }
        expect(got.diagnostics).toEqual([]);
        const v = got.value!;
        if (!conforms(v.type, exp.resultType)) throw new Error(`type ${typeString(v.type)} does not conform to ${typeString(exp.resultType)}`);
        if (exp.result) {
          const want = convert(exp.result, exp.resultType);
          if (!rawEquals(v, want)) {
            expect(toJsonLoose(v)).toEqual(toJsonLoose(want));
            expect(typeString(v.type)).toBe(typeString(want.type));
            throw new Error("values differ (RawEquals)");
          }
        }
        if (exp.traversals !== undefined) expect(got.refs).toBe(exp.traversals);
      });
    }
  }
});

// Golden values checked by hand, independent of reading the .t files with our own parser.
describe("spec suite goldens", () => {
  test("operators: big numbers and mod_frac are exact", () => {
    const { spec, variables } = readSpecFile(readFileSync(`${ROOT}/expressions/operators.hcldec`, "utf8"), "operators.hcldec");
    const src = readFileSync(`${ROOT}/expressions/operators.hcl`, "utf8");
    const r = decodeSpec(parseHcl(src, "operators.hcl").file.body, spec, new EvalContext(variables));
    expect(r.diagnostics).toEqual([]);
    const arith = r.value.attrs.get("arithmetic")!;
    expect(arith.attrs.get("mod_frac")!.num.toString()).toBe(
      "0.8" + "0".repeat(152) + "24",
    );
    expect(arith.attrs.get("add_big")!.num.toString()).toBe("4.14159265358979323846264338327950288419716939937510582097494459");
    expect(arith.attrs.get("div")!.num.toString()).toBe("0.1");
    expect(arith.attrs.get("mod_frac")!.num.eq(Num.parse("0.8")!)).toBe(false);
    expect(r.value.attrs.get("equality")!.attrs.get("==")!.attrs.get("type_mismatch_number")!.bool).toBe(false);
  });
  test("heredoc: flush with tabs and unicode spaces", () => {
    const { spec, variables } = readSpecFile(readFileSync(`${ROOT}/expressions/heredoc.hcldec`, "utf8"), "heredoc.hcldec");
    const src = readFileSync(`${ROOT}/expressions/heredoc.hcl`, "utf8");
    const r = decodeSpec(parseHcl(src, "heredoc.hcl").file.body, spec, new EvalContext(variables));
    const flush = r.value.attrs.get("flush")!;
    expect(flush.attrs.get("tabs")!.str).toBe("Foo\n Bar\n Baz\n");
    expect(flush.attrs.get("unicode_spaces")!.str).toBe("\u2003Foo (there's two \"em spaces\" before Foo there)\nBar\nBaz\n");
    expect(flush.attrs.get("interp_indented_less")!.str).toBe("  Foo\n  Bar\n  Baz\n");
    expect(r.value.attrs.get("normal")!.attrs.get("indented")!.str).toBe("    Foo\n    Bar\n    Baz\n");
  });
  test("NFC normalisation of string literals", () => {
    const { file } = parseHcl('a = "an\u0303o"\n', "nfc.hcl");
    const v = file.body.justAttributes().attributes.a!.expr.evaluate().value;
    expect(v.str).toBe("a\u00f1o");
  });
  test("single-line block errors land on the expected bytes", () => {
    const src = readFileSync(`${ROOT}/structure/blocks/single_oneline_invalid.hcl`, "utf8");
    const { diagnostics } = parseHcl(src, "x.hcl");
    expect(diagnostics.map((d) => [d.range!.start.byte, d.range!.end.byte])).toEqual([
      [13, 14],
      [40, 41],
      [56, 57],
      [84, 85],
      [103, 106],
    ]);
    const { diagnostics: d2 } = parseHcl('a = "a value", b = "b value"\n', "y.hcl");
    expect(d2.map((d) => [d.range!.start.column, d.range!.end.column])).toEqual([[14, 15]]);
  });
});
