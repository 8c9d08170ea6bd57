// Compiles dist/imgb: one executable with the runtime, the code and the first-party plugins embedded.
// --bytecode (which needs --format esm) and --minify cut start-up time roughly in half.
import { mkdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
const proc = Bun.spawnSync(
  [process.execPath, "build", "--compile", "--minify", "--bytecode", "--format", "esm", "cmd/main.ts", "--outfile", "dist/imgb"],
  { stdout: "inherit", stderr: "inherit" },
);
if (proc.exitCode !== 0) {
  console.error("compile: bun build --compile failed");
  process.exit(proc.exitCode ?? 1);
}
