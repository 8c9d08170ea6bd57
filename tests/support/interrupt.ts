// Ctrl-C in the middle of a real build through the compiled binary: run `imgb build` with its own
// TMPDIR (so "nothing left" can be checked exactly), send SIGINT once stdout shows the step under
// way, and wait for imgb to exit.
import { expect } from "bun:test";
import { readdirSync } from "node:fs";
import { requireBinary } from "./binary.ts";

export interface Interrupted {
  exitCode: number;
  stdout: string;
  /** The build's own TMPDIR. */
  tmp: string;
  /** What the build left in its TMPDIR. */
  tmpLeft: string[];
}

export interface InterruptOptions {
  /** Arguments after `imgb build -color=false`. */
  args: string[];
  /** SIGINT is sent once stdout matches this... */
  when: RegExp;
  /** ...and this long after (a process started, not only announced). */
  afterMs?: number;
  /** How long to wait for `when` before failing. */
  waitMs?: number;
  /** An empty folder for the build's TMPDIR. */
  tmp: string;
  env?: Record<string, string>;
  /** When set, imgb must exit this soon after the SIGINT. */
  exitWithinMs?: number;
}

export async function interruptBuild(dir: string, o: InterruptOptions): Promise<Interrupted> {
  const proc = Bun.spawn([requireBinary(), "build", "-color=false", ...o.args], {
    cwd: dir,
    env: { ...process.env, TMPDIR: o.tmp, ...(o.env ?? {}) },
    stdout: "pipe",
    stderr: "pipe",
  });
  let stdout = "";
  let seen!: (reached: boolean) => void;
  const reached = new Promise<boolean>((r) => (seen = r));
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      stdout += decoder.decode(chunk, { stream: true });
      if (o.when.test(stdout)) seen(true);
    }
    seen(false);
  })();
  const ok = await Promise.race([reached, Bun.sleep(o.waitMs ?? 120_000).then(() => false)]);
  if (!ok) proc.kill("SIGKILL");
  expect(ok, `never saw ${o.when} in:\n${stdout}`).toBe(true);
  await Bun.sleep(o.afterMs ?? 500);
  proc.kill("SIGINT");
  const started = performance.now();
  const exitCode = await proc.exited;
  if (o.exitWithinMs !== undefined) expect(performance.now() - started).toBeLessThan(o.exitWithinMs);
  await drained;
  // The compiled binary's runtime writes its embedded native addons (ssh2's) to TMPDIR under a
  // content-hash name and reuses them on later runs: a bounded cache of the runtime, not the build's.
  const tmpLeft = readdirSync(o.tmp).filter((n) => !/^\.bun-\d+-[0-9a-f]+\.node$/.test(n));
  return { exitCode, stdout, tmp: o.tmp, tmpLeft };
}
