// The AssemblyScript compiler (asc + Binaryen, pure JavaScript and wasm) called in-process. It is
// loaded only by the verbs that compile (`imgb plugin build` and plugins-wasm/build.ts), never on
// the start of the binary.
import { dirname, relative, sep } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { importEmbeddedAsc } from "./embedded-compiler.ts";

/** The flags every plugin is compiled with (first-party and third-party alike). */
export const ASC_FLAGS = ["-O2", "--runtime", "incremental", "--noAssert"] as const;

export class CompileError extends Error {
  override name = "CompileError";
}

export interface CompileRequest {
  /** The plugin's entry file (absolute), e.g. DIR/assembly/plugin.ts. */
  entry: string;
  /** The SDK folder (absolute) holding assembly/sdk.ts. */
  sdkDir: string;
  /** Where the .wasm goes (absolute). */
  outFile: string;
}

/** The deepest folder holding both paths (asc names sources relative to it). */
function commonRoot(a: string, b: string): string {
  const pa = a.split(sep);
  const pb = b.split(sep);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join(sep) || sep;
}

interface MemoryStream {
  toString(): string;
}
/** The part of asc's API used here (its own typings declare AssemblyScript globals, so not imported). */
interface Asc {
  version: string;
  createMemoryStream(): MemoryStream;
  main(
    argv: string[],
    options: { stdout: MemoryStream; stderr: MemoryStream; writeFile: (name: string, contents: Uint8Array | string) => void },
  ): Promise<{ error: Error | null }>;
}

/** The package, when running from the repository; a variable, so `bun build` does not bundle it. */
const ASC_PACKAGE: string = "assemblyscript/asc";

async function loadAsc(): Promise<Asc> {
  // The compiled binary carries the compiler as compressed files (embedded-compiler.ts); from the
  // repository it is the npm package. Typed through Asc above.
  return ((await importEmbeddedAsc()) ?? (await import(ASC_PACKAGE))) as Asc;
}

export async function ascVersion(): Promise<string> {
  return (await loadAsc()).version;
}

/**
 * Compiles one plugin. `--use abort=<sdk>/assembly/sdk/pluginAbort` is required: AssemblyScript's
 * default abort imports `env.abort`, which imgb does not provide. Throws CompileError with asc's
 * diagnostics.
 */
export async function compileAssemblyScript(req: CompileRequest): Promise<Uint8Array> {
  const asc = await loadAsc();
  const baseDir = commonRoot(dirname(req.entry), req.sdkDir);
  const rel = (p: string) => relative(baseDir, p).split(sep).join("/");
  const abortTarget = `${rel(req.sdkDir)}/assembly/sdk/pluginAbort`;
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  let binary: Uint8Array | null = null;
  const result = await asc.main([rel(req.entry), "--baseDir", baseDir, "-o", "out.wasm", "--use", `abort=${abortTarget}`, "--noColors", ...ASC_FLAGS], {
    stdout,
    stderr,
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents;
    },
  });
  if (result.error || !binary) {
    const text = stderr.toString().trim();
    throw new CompileError(text || result.error?.message || "asc produced no module");
  }
  mkdirSync(dirname(req.outFile), { recursive: true });
  writeFileSync(req.outFile, binary);
  return binary;
}
