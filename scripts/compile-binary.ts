// One way to compile the imgb binary, used by `npm run build` (this machine's target) and by
// `npm run release` (every target): the runtime, the code and the first-party plugins embedded, with the
// build facts injected for `imgb version` and `imgb self-update`.
// --bytecode (which needs --format esm) and --minify cut start-up time roughly in half.
// The output file's name is embedded in the binary (as /$bunfs/root/NAME), so a reproducible build
// must always write the same name for the same target.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { BuildInfo } from "../core/release/build-info.ts";

export const REPO = new URL("..", import.meta.url).pathname;

/** Release target name → Bun's compile target. */
export const TARGETS: Record<string, string> = {
  "linux-x64": "bun-linux-x64",
  "linux-x64-baseline": "bun-linux-x64-baseline",
  "linux-arm64": "bun-linux-arm64",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
  "windows-x64": "bun-windows-x64",
};

function git(args: string[]): string | undefined {
  const p = Bun.spawnSync(["git", ...args], { cwd: REPO, stdout: "pipe", stderr: "ignore", env: { ...process.env, TZ: "UTC" } });
  return p.exitCode === 0 ? p.stdout.toString().trim() : undefined;
}

/** The commit (short hash, "-dirty" when tracked files differ from it) and its commit date (UTC). */
export function sourceFacts(): { commit: string; date: string } {
  const commit = git(["rev-parse", "--short=7", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]);
  // The build date is the commit's date, not the clock's: two builds of one commit are byte-identical.
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const date = epoch
    ? new Date(Number(epoch) * 1000).toISOString().slice(0, 10)
    : (git(["log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d"]) ?? new Date().toISOString().slice(0, 10));
  return { commit: commit ? `${commit}${dirty ? "-dirty" : ""}` : "unknown", date };
}

/**
 * The AssemblyScript compiler, ssh2 and the SDK's sources go in as compressed files
 * (scripts/compressed-assets.ts), not as code: extra entry points are embedded as they are and listed
 * in Bun.embeddedFiles.
 */
export function compileBinary(o: { bunTarget?: string; outfile: string; info: BuildInfo; assets: string[] }): void {
  mkdirSync(dirname(o.outfile), { recursive: true });
  const argv = [process.execPath, "build", "--compile", "--minify", "--bytecode", "--format", "esm"];
  if (o.bunTarget) argv.push(`--target=${o.bunTarget}`);
  argv.push("--define", `IMGB_BUILD_INFO=${JSON.stringify(JSON.stringify(o.info))}`, "cmd/main.ts", ...o.assets, "--outfile", o.outfile);
  const proc = Bun.spawnSync(argv, { cwd: REPO, stdout: "ignore", stderr: "inherit" });
  if (proc.exitCode !== 0) throw new Error(`bun build --compile failed for ${o.bunTarget ?? "this machine"} (exit ${proc.exitCode})`);
}
