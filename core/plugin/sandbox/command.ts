// How to start the sandbox child: the same binary with the hidden `__plugin-sandbox` argument.
// In a compiled binary the entry point lives in Bun's embedded file system ("/$bunfs/..."), and
// process.execPath is imgb itself; from sources process.execPath is bun and the entry is cmd/main.ts.
import { join } from "node:path";

export const SANDBOX_ARG = "__plugin-sandbox";

export function isCompiledBinary(): boolean {
  return Bun.main.startsWith("/$bunfs/") || import.meta.url.includes("$bunfs");
}

export function sandboxCommand(): string[] {
  if (isCompiledBinary()) return [process.execPath, SANDBOX_ARG];
  const entry = join(import.meta.dir, "..", "..", "..", "cmd", "main.ts");
  return [process.execPath, entry, SANDBOX_ARG];
}
