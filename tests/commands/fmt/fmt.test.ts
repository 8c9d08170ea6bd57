// `imgb fmt` against Packer's expectations (EXPECTATIONS/command-fmt.json): formatter goldens byte
// for byte, -check exit codes, stdin, and -recursive on a scratch tree.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fmtCommand, type FmtOptions } from "../../../core/commands/fmt.ts";
import { formatHclSource } from "../../../core/template/hcl2/hcl.ts";

const FIXTURES = "/work/shared/corpus/packer-fixtures";
const table = JSON.parse(readFileSync(join(FIXTURES, "EXPECTATIONS/command-fmt.json"), "utf8")) as {
  cases: Array<{ args: string[]; exitCode: number; stdoutTrimmed?: string }>;
  pipeCases: Array<{ stdin: string; args: string[]; stdout: string }>;
  recursiveCases: Array<{ name: string; args: string[]; before: Record<string, string>; after: Record<string, string> }>;
  formatterPairs: Array<{ input: string; formatted?: string; formatExpected?: boolean }>;
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), "imgb-fmt-"));
  dirs.push(d);
  return d;
}

/** Runs fmt with Packer-style args (`-check=true`, `-recursive=true`, paths), capturing stdout. */
async function run(args: string[], stdin = ""): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const flag = (name: string, fallback: boolean) => {
    const a = args.find((x) => x === `-${name}` || x.startsWith(`-${name}=`));
    return a === undefined ? fallback : a === `-${name}` || a.endsWith("=true");
  };
  const opts: FmtOptions = {
    paths: args.filter((a) => a === "-" || !a.startsWith("-")),
    check: flag("check", false),
    diff: flag("diff", false),
    write: flag("write", true),
    recursive: flag("recursive", false),
    out: (t) => (stdout += t),
    readStdin: async () => stdin,
  };
  return { code: await fmtCommand(opts), stdout };
}

describe("formatter goldens", () => {
  for (const pair of table.formatterPairs) {
    test(pair.input, () => {
      const src = readFileSync(join(FIXTURES, pair.input), "utf8");
      const r = formatHclSource(src, pair.input);
      expect(r.diagnostics).toEqual([]);
      if (pair.formatted) {
        const formatted = readFileSync(join(FIXTURES, pair.formatted), "utf8");
        // A formatted file formats to itself.
        expect(formatHclSource(formatted, pair.formatted).text).toBe(formatted);
        // command/test-fixtures/fmt pairs two different templates (upstream only uses them for
        // -check), so only the hcl2template pair is a before/after golden.
        if (pair.input.startsWith("command/")) expect(r.text).not.toBe(src);
        else expect(r.text).toBe(formatted);
      } else expect(r.text).not.toBe(src);
      // Formatting is idempotent.
      expect(formatHclSource(r.text, pair.input).text).toBe(r.text);
    });
  }
});

describe("-check", () => {
  for (const c of table.cases) {
    test(`${c.args.join(" ")} -> ${c.exitCode}`, async () => {
      // Copy the fixtures: a failed -check must never write, but a bug could.
      const dir = scratch();
      cpSync(join(FIXTURES, "command/test-fixtures/fmt"), join(dir, "test-fixtures/fmt"), { recursive: true });
      const before = readFileSync(join(dir, "test-fixtures/fmt/unformatted.pkr.hcl"), "utf8");
      const r = await run(c.args.map((a) => (a.startsWith("-") ? a : join(dir, a))));
      expect(r.code).toBe(c.exitCode);
      if (c.stdoutTrimmed !== undefined) expect(r.stdout.trim()).toBe(c.stdoutTrimmed);
      if (c.exitCode === 3) expect(r.stdout).toContain("unformatted");
      expect(readFileSync(join(dir, "test-fixtures/fmt/unformatted.pkr.hcl"), "utf8")).toBe(before);
    });
  }
});

describe("stdin", () => {
  for (const c of table.pipeCases) {
    test(JSON.stringify(c.stdin.slice(0, 30)), async () => {
      const r = await run(c.args.slice(1), c.stdin);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(c.stdout);
    });
  }
});

describe("-recursive", () => {
  for (const c of table.recursiveCases) {
    test(c.name, async () => {
      const dir = scratch();
      for (const [rel, text] of Object.entries(c.before)) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), text);
      }
      const r = await run(c.args.map((a) => (a === "<tmpdir>" ? dir : a)));
      expect(r.code).toBe(0);
      for (const [rel, text] of Object.entries(c.after)) expect(readFileSync(join(dir, rel), "utf8")).toBe(text);
    });
  }
});

describe("-diff", () => {
  test("shows the change as a unified diff and writes the file", async () => {
    const dir = scratch();
    const file = join(dir, "a.pkr.hcl");
    writeFileSync(file, 'a =1\nbb = "x"\n');
    const r = await run(["-diff", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`--- old/${file}\n+++ new/${file}\n`);
    expect(r.stdout).toContain("-a =1\n");
    expect(r.stdout).toContain("+a  = 1\n");
    expect(readFileSync(file, "utf8")).toBe('a  = 1\nbb = "x"\n');
  });
});
