// Packer's own `packer build` expectations (shared/corpus/packer-fixtures/EXPECTATIONS/command-build.json),
// run through the compiled binary against a scratch copy of the fixtures.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CORPUS, runImgb } from "../support/binary.ts";

interface FileCase {
  name: string;
  args: string[];
  runtime?: string;
  exitCode?: number;
  filesExist?: string[];
  filesAbsent?: string[];
  fileContents?: Record<string, string>;
  stdinFile?: string;
}
interface OutputCase extends FileCase {
  stdoutContains?: string[];
  stdoutNotContains?: string[];
  stderrContains?: string[];
  stderrCount?: Record<string, number>;
  stdoutCount?: Record<string, number>;
}
interface MultiStepCase {
  name: string;
  steps: Array<{ env?: Record<string, string>; args: string[]; exitCode: number; fileContents?: Record<string, string> }>;
}

const expectations = JSON.parse(readFileSync(join(CORPUS, "packer-fixtures/EXPECTATIONS/command-build.json"), "utf8")) as {
  fileCases: FileCase[];
  outputCases: OutputCase[];
  multiStepCases: MultiStepCase[];
};
const FIXTURES = join(CORPUS, "packer-fixtures/command");
const scratchDirs: string[] = [];

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "imgb-corpus-"));
  scratchDirs.push(dir);
  cpSync(FIXTURES, dir, { recursive: true });
  // The corpus README: hello.sh was not copied (a script); it echoes this line.
  const hello = join(dir, "test-fixtures/hcl/reprepare/hello.sh");
  writeFileSync(hello, 'echo "hello from the ${BUILDER} builder ${USER}"\n');
  chmodSync(hello, 0o755);
  return dir;
}

afterAll(() => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

const count = (text: string, needle: string) => text.split(needle).length - 1;
const onPosix = (c: { runtime?: string }) => c.runtime !== "windows";

describe("corpus: packer build file cases", () => {
  for (const c of expectations.fileCases.filter(onPosix)) {
    test(c.name, async () => {
      const cwd = scratch();
      const stdin = c.stdinFile ? readFileSync(join(cwd, c.stdinFile), "utf8") : undefined;
      const r = await runImgb(["build", ...c.args], { cwd, stdin, env: { USER: "packeruser" } });
      const context = `${c.args.join(" ")}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      if (c.exitCode !== undefined) expect(r.exitCode, context).toBe(c.exitCode);
      for (const f of c.filesExist ?? []) expect(existsSync(join(cwd, f)), `${f} should exist\n${context}`).toBe(true);
      for (const f of c.filesAbsent ?? []) expect(existsSync(join(cwd, f)), `${f} should be absent\n${context}`).toBe(false);
      for (const [f, want] of Object.entries(c.fileContents ?? {})) {
        expect(existsSync(join(cwd, f)), `${f} should exist\n${context}`).toBe(true);
        expect(readFileSync(join(cwd, f), "utf8"), `${f}\n${context}`).toBe(want);
      }
    });
  }
});

describe("corpus: packer build output cases", () => {
  for (const c of expectations.outputCases.filter(onPosix)) {
    test(c.name, async () => {
      const cwd = scratch();
      const r = await runImgb(["build", ...c.args], { cwd, env: { USER: "packeruser" } });
      const context = `${c.args.join(" ")}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      if (c.exitCode !== undefined) expect(r.exitCode, context).toBe(c.exitCode);
      for (const s of c.stdoutContains ?? []) expect(r.stdout, context).toContain(s);
      for (const s of c.stdoutNotContains ?? []) expect(r.stdout, context).not.toContain(s);
      for (const s of c.stderrContains ?? []) expect(r.stderr, context).toContain(s);
      for (const [s, n] of Object.entries(c.stderrCount ?? {})) expect(count(r.stderr, s), context).toBe(n);
      for (const [s, n] of Object.entries(c.stdoutCount ?? {})) expect(count(r.stdout, s), context).toBe(n);
    });
  }
});

describe("corpus: packer build multi-step cases", () => {
  for (const c of expectations.multiStepCases) {
    test(c.name, async () => {
      const cwd = scratch();
      for (const step of c.steps) {
        const r = await runImgb(["build", ...step.args], { cwd, env: { USER: "packeruser", ...step.env } });
        const context = `${step.args.join(" ")}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
        expect(r.exitCode, context).toBe(step.exitCode);
        for (const [f, want] of Object.entries(step.fileContents ?? {})) expect(readFileSync(join(cwd, f), "utf8"), context).toBe(want);
      }
    });
  }
});
