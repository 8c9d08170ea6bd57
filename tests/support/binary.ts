// End-to-end tests run the compiled binary, never the sources: `npm test` builds dist/imgb first.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const IMGB = resolve(import.meta.dir, "../../dist/imgb");
export const CORPUS = resolve(import.meta.dir, "../../../shared/corpus");

export function requireBinary(): string {
  if (!existsSync(IMGB)) throw new Error(`${IMGB} is missing: run "npm run build" (npm test does it first)`);
  return IMGB;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runImgb(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: Blob | string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const proc = Bun.spawn([requireBinary(), ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}
