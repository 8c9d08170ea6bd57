// Structure-aware fuzzing of HCL2 templates: generated variables, locals and builds whose
// expressions call the function library with arbitrary arguments, nest, iterate, refer to each
// other (cycles included) and amplify. Every template loads or fails with a DiagnosticsError whose
// errors are positioned within the file, and no single template takes 3 s (5 s is the bound, bench/hostile).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiagnosticsError } from "../../../core/errors/diagnostic.ts";
import { loadHcl2Template } from "../../../core/template/hcl2/index.ts";
import { FUZZ_SEED, fuzzBudgetMs, int, pick, rng, type Rng } from "../../support/fuzz.ts";
import { checkAgainstStubs } from "./corpus.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-hcl-sfuzz-"));
  writeFileSync(join(dir, "data.txt"), "line one\nline two\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FUNCTIONS = [
  "format", "formatlist", "join", "split", "concat", "flatten", "range", "setproduct", "length", "lookup", "merge",
  "jsonencode", "jsondecode", "yamlencode", "yamldecode", "replace", "regex_replace", "upper", "lower", "indent",
  "substr", "tolist", "toset", "tomap", "tostring", "tonumber", "try", "can", "timeadd", "abs", "max", "min",
  "coalesce", "element", "keys", "values", "base64encode", "base64decode", "sha256", "chunklist", "distinct",
  "reverse", "sort", "zipmap", "file", "trimspace", "strrev", "cidrsubnet", "parseint", "pow", "regexall",
];

interface Names {
  vars: string[];
  locals: string[];
}

function str(r: Rng, names: Names, depth: number): string {
  const parts = [
    () => "text",
    () => "%d %s %v %05.2f %[1]q",
    () => `%0${pick(r, ["3", "99", "999999999"])}d`,
    () => `\${${expr(r, names, depth + 1)}}`,
    () => `%{ for x in ${expr(r, names, depth + 1)} }\${x}%{ endfor }`,
    () => `%{ if ${expr(r, names, depth + 1)} }yes%{ else }no%{ endif }`,
    () => "é😀",
    () => "\\n\\t\\u00e9",
  ];
  let s = "";
  for (let i = 1 + int(r, 3); i > 0; i--) s += pick(r, parts)();
  return `"${s}"`;
}

function expr(r: Rng, names: Names, depth: number): string {
  if (depth > 5) return pick(r, ["1", '"x"', "true", "null", "[]", "{}"]);
  const choices: Array<() => string> = [
    () => pick(r, ["0", "-1", "3.5", "1e300", "true", "false", "null"]),
    () => str(r, names, depth),
    () => (names.vars.length ? `var.${pick(r, names.vars)}` : "var.missing"),
    () => (names.locals.length ? `local.${pick(r, names.locals)}` : "local.missing"),
    () => `${pick(r, FUNCTIONS)}(${Array.from({ length: int(r, 4) }, () => expr(r, names, depth + 1)).join(", ")})`,
    () => `[${Array.from({ length: int(r, 5) }, () => expr(r, names, depth + 1)).join(", ")}]`,
    () => `{ ${Array.from({ length: int(r, 4) }, (_, i) => `k${i} = ${expr(r, names, depth + 1)}`).join(", ")} }`,
    () => `[for i, x in ${expr(r, names, depth + 1)}: ${expr(r, names, depth + 1)}]`,
    () => `{for k, v in ${expr(r, names, depth + 1)}: k => ${expr(r, names, depth + 1)}...}`,
    () => `${expr(r, names, depth + 1)} ? ${expr(r, names, depth + 1)} : ${expr(r, names, depth + 1)}`,
    () => `${expr(r, names, depth + 1)} ${pick(r, ["+", "*", "==", "&&", "%", "/", "<"])} ${expr(r, names, depth + 1)}`,
    () => `${expr(r, names, depth + 1)}[${expr(r, names, depth + 1)}]`,
    () => `${expr(r, names, depth + 1)}[*].a`,
    () => `concat(${Array(10).fill(names.locals.length ? `local.${pick(r, names.locals)}` : "[1]").join(", ")})`,
    () => `${"[".repeat(int(r, 300))}1${"]".repeat(int(r, 300))}`,
    () => `jsondecode(${JSON.stringify("[".repeat(int(r, 300)) + "]".repeat(int(r, 300)))})`,
  ];
  return pick(r, choices)();
}

function generate(r: Rng): string {
  const names: Names = { vars: Array.from({ length: int(r, 4) }, (_, i) => `v${i}`), locals: Array.from({ length: 1 + int(r, 6) }, (_, i) => `l${i}`) };
  const out: string[] = [];
  for (const v of names.vars) {
    const attrs = [`default = ${expr(r, { vars: [], locals: [] }, 2)}`];
    if (r() < 0.5) attrs.push(`type = ${pick(r, ["string", "number", "list(string)", "map(any)", "any", "object({a=string})"])}`);
    if (r() < 0.3) attrs.push("sensitive = true");
    out.push(`variable "${v}" {\n  ${attrs.join("\n  ")}\n}`);
  }
  // Half the locals are simple, so some templates load and reach decoding.
  const simple = () => pick(r, ['"text"', "1", "[1, 2]", '{ a = "b" }', '"${upper("x")}"', 'format("%s-%d", "a", 1)']);
  out.push(`locals {\n${names.locals.map((l) => `  ${l} = ${r() < 0.5 ? simple() : expr(r, names, 0)}`).join("\n")}\n}`);
  out.push('source "null" "a" { communicator = "none" }');
  const prov = `  provisioner "shell-local" {\n    inline = [${r() < 0.5 ? '"echo"' : str(r, names, 2)}]\n    environment_vars = [${r() < 0.5 ? '"A=b"' : str(r, names, 3)}]\n  }`;
  out.push(`build {\n  sources = ["source.null.a"]\n${prov}\n}`);
  return out.join("\n") + "\n";
}

test("structure-aware: generated HCL2 templates load or fail with positioned diagnostics", async () => {
  const r = rng(FUZZ_SEED + 2);
  const deadline = performance.now() + fuzzBudgetMs(3000);
  let runs = 0;
  let loaded = 0;
  let slowest = 0;
  const file = join(dir, "t.pkr.hcl");
  while (performance.now() < deadline) {
    const text = generate(r);
    writeFileSync(file, text);
    runs++;
    const started = performance.now();
    try {
      checkAgainstStubs(await loadHcl2Template(file, { vars: [], varFiles: [], env: {} }, { cwd: dir }));
      loaded++;
    } catch (e) {
      if (!(e instanceof DiagnosticsError)) throw new Error(`crash on:\n${text}\n${(e as Error).stack}`);
      const lines = text.split("\n").length;
      for (const d of e.diagnostics) {
        if (d.range && d.range.filename === file && (d.range.start.line < 1 || d.range.start.line > lines)) {
          throw new Error(`diagnostic outside the file: ${JSON.stringify(d)}\n${text}`);
        }
      }
    }
    slowest = Math.max(slowest, performance.now() - started);
  }
  console.log(`hcl structure fuzz: ${runs} inputs, ${loaded} loaded, slowest ${Math.round(slowest)} ms`);
  expect(runs).toBeGreaterThan(30);
  expect(loaded).toBeGreaterThan(0);
  expect(slowest).toBeLessThan(3000);
}, 600_000);
