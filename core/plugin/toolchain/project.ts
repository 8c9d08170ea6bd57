// A plugin project: a folder with imgb-plugin.json, assembly/plugin.ts and the SDK sources.
// `imgb plugin build` compiles it with the embedded AssemblyScript compiler and runs the load-time
// checks on the result; first-party plugins (plugins-wasm/<folder>/) are projects too and build
// through the same function.
import { describeIssues } from "../../errors/valibot-issues.ts";
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import * as v from "valibot";
import { UserError } from "../../errors/diagnostic.ts";
import { isValidPluginName } from "../../registry/names.ts";
import { createPluginCatalog } from "../catalog.ts";
import type { PluginDescription } from "../types.ts";
import { CompileError, compileAssemblyScript } from "./asc.ts";

export const MANIFEST = "imgb-plugin.json";

const ManifestSchema = v.strictObject({
  kind: v.picklist(["provisioner", "post-processor"]),
  /** The template type: `namespace/name` (the registry's rule); first-party plugins have bare names. */
  name: v.string(),
  version: v.optional(v.string()),
  /** The SDK folder, relative to the project (default "sdk"). */
  sdk: v.optional(v.string(), "sdk"),
  /** Built into the imgb binary: a bare name is allowed. */
  first_party: v.optional(v.boolean(), false),
});
export type PluginManifest = v.InferOutput<typeof ManifestSchema>;

export function readManifest(dir: string): PluginManifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new UserError(`${path} not found: not a plugin project (create one with \`imgb plugin new NAMESPACE/NAME\`)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`${path}: not JSON: ${(e as Error).message}`);
  }
  const parsed = v.safeParse(ManifestSchema, raw);
  if (!parsed.success) {
    throw new UserError(`${path}: ${describeIssues(parsed.issues, 1)}`);
  }
  const m = parsed.output;
  if (!m.first_party && !isValidPluginName(m.name)) {
    throw new UserError(`${path}: name ${JSON.stringify(m.name)} must be "namespace/name" (lowercase letters, digits and inner hyphens), the name the registry and templates use`);
  }
  return m;
}

/** dist/NAME.wasm inside the project (NAME without the namespace). */
export function defaultWasmPath(dir: string, m: PluginManifest): string {
  return join(dir, "dist", `${m.name.slice(m.name.lastIndexOf("/") + 1)}.wasm`);
}

export interface BuildResult {
  wasm: string;
  bytes: number;
  /** null when the checks were skipped. */
  description: PluginDescription | null;
}

/** Runs `describe` in the real sandbox and checks it against the manifest (kind, name, exports, imports). */
export async function checkBuiltPlugin(wasmPath: string, bytes: Uint8Array, m: PluginManifest): Promise<PluginDescription> {
  const catalog = createPluginCatalog({ embedded: false });
  try {
    const d = await catalog.registerWasm(bytes, "declared", "installed", basename(wasmPath));
    if (d.kind !== m.kind || d.name !== m.name) {
      throw new UserError(`${wasmPath}: describe says ${d.kind} ${JSON.stringify(d.name)}, but ${MANIFEST} says ${m.kind} ${JSON.stringify(m.name)}: they must match (the template type is the name)`);
    }
    return d;
  } finally {
    await catalog.closeAll();
  }
}

/** Compiles DIR/assembly/plugin.ts to `out` (default DIR/dist/NAME.wasm) and checks the module. */
export async function buildPluginProject(dirArg: string, opts: { out?: string; check?: boolean } = {}): Promise<BuildResult> {
  const dir = resolve(dirArg);
  const m = readManifest(dir);
  const entry = join(dir, "assembly", "plugin.ts");
  if (!existsSync(entry)) throw new UserError(`${entry} not found: a plugin's entry is assembly/plugin.ts`);
  const sdkDir = resolve(dir, m.sdk);
  if (!existsSync(join(sdkDir, "assembly", "sdk.ts"))) throw new UserError(`${sdkDir}/assembly/sdk.ts not found: the SDK folder (${MANIFEST} "sdk") is missing`);
  const wasm = resolve(opts.out ?? defaultWasmPath(dir, m));
  let bytes: Uint8Array;
  try {
    bytes = await compileAssemblyScript({ entry, sdkDir, outFile: wasm });
  } catch (e) {
    if (e instanceof CompileError) throw new UserError(`${m.name}: compile errors:\n${e.message}`);
    throw e;
  }
  const description = opts.check === false ? null : await checkBuiltPlugin(wasm, bytes, m);
  return { wasm, bytes: bytes.length, description };
}
