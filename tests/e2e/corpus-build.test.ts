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
}, 60_000);

// Expectations that cannot hold for imgb or any reimplementation, each with the reason.
const NOT_APPLICABLE_FILES: Record<string, { files: string[]; why: string }> = {
  "build name: JSON except potato": {
    files: ["null.test.txt", "null.potato.txt"],
    why: "written by the HCL template of the same folder: upstream ran its cases in one shared directory; all.json cannot produce them",
  },
};
const NOT_APPLICABLE_CASES: Record<string, string> = {
  "hcl - execute and use datasource": "uses the `mock` data source, which exists only in Packer's Go test harness",
};

/** `<uuid-N>` in an expectation stands for a run id the test chooses; Go's JSON escapes < and > so the
 * placeholder itself cannot round-trip. */
function withRunIds<T>(value: T, ids: Map<string, string>): T {
  return JSON.parse(
    JSON.stringify(value).replace(/<uuid-\d+>/g, (m) => {
      if (!ids.has(m)) ids.set(m, crypto.randomUUID());
      return ids.get(m)!;
    }),
  ) as T;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;
const onPosix = (c: { runtime?: string }) => c.runtime !== "windows";

describe("corpus: packer build file cases", () => {
  for (const c of expectations.fileCases.filter(onPosix)) {
    const skip = NOT_APPLICABLE_CASES[c.name];
    if (skip) {
      test.skip(`${c.name} (${skip})`, () => {});
      continue;
    }
    test(c.name, async () => {
      const cwd = scratch();
      const stdin = c.stdinFile ? readFileSync(join(cwd, c.stdinFile), "utf8") : undefined;
      const r = await runImgb(["build", ...c.args], { cwd, stdin, env: { USER: "packeruser" } });
      const context = `${c.args.join(" ")}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      if (c.exitCode !== undefined) expect(r.exitCode, context).toBe(c.exitCode);
      const notApplicable = NOT_APPLICABLE_FILES[c.name]?.files ?? [];
      for (const f of (c.filesExist ?? []).filter((f) => !notApplicable.includes(f))) expect(existsSync(join(cwd, f)), `${f} should exist\n${context}`).toBe(true);
      for (const f of c.filesAbsent ?? []) expect(existsSync(join(cwd, f)), `${f} should be absent\n${context}`).toBe(false);
      for (const [f, want] of Object.entries(c.fileContents ?? {})) {
        expect(existsSync(join(cwd, f)), `${f} should exist\n${context}`).toBe(true);
        // Packer's fixtures were recorded by its command tests, where no run UUID is set; packer's main
        // (like imgb) sets one per run, so the recorded manifests have "" where a build has a UUID.
        const got = readFileSync(join(cwd, f), "utf8").replace(/"(packer_run_uuid|last_run_uuid)": "[0-9a-f-]{36}"/g, '"$1": ""');
        expect(got, `${f}\n${context}`).toBe(want);
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
      const ids = new Map<string, string>();
      for (const step of withRunIds(c.steps, ids)) {
        const r = await runImgb(["build", ...step.args], { cwd, env: { USER: "packeruser", ...step.env } });
        const context = `${step.args.join(" ")}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
        expect(r.exitCode, context).toBe(step.exitCode);
        for (const [f, want] of Object.entries(step.fileContents ?? {})) expect(readFileSync(join(cwd, f), "utf8"), context).toBe(want);
      }
    });
  }
});
