// Harness for the post-processor suites: the real catalog (embedded plugins built from
// plugins-wasm/), a scratch output folder per test, and one call through the PostProcessor
// interface exactly as the engine makes it (configure, then post_process with an artifact).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { buildAll, compilePlugin } from "../../plugins-wasm/build.ts";
import type { Artifact } from "../../core/engine/artifact.ts";
import type { BuildContextValues } from "../../core/template/model.ts";
import type { JsonObject } from "../../core/values/json.ts";
import type { PostProcessResult } from "../../core/plugin/types.ts";
import { RecordingUi, buildValues } from "../plugin/support.ts";

export { RecordingUi, buildValues };

export async function postProcessorCatalog(): Promise<WasmPluginCatalog> {
  await buildAll();
  const catalog = createPluginCatalog();
  const probe = join(import.meta.dir, "..", ".tmp", "plugins", "stream-probe.wasm");
  await compilePlugin(join(import.meta.dir, "probe", "assembly", "plugin.ts"), probe);
  await catalog.registerInstalledPlugin(probe, ["artifact_read", "artifact_write"]);
  return catalog;
}

export function scratch(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `imgb-pp-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function fileArtifact(files: string[], id = "Null"): Artifact {
  return { builderId: "packer.file", id, files, string: `files: ${files.join(", ")}`, state: {}, destroy: async () => {} };
}

export interface Outcome {
  result: PostProcessResult | null;
  error: string | null;
  ui: RecordingUi;
  configErrors: string[];
}

/** configure + post_process one post-processor, with `outputDir` as the output folder. */
export async function runPostProcessor(
  catalog: WasmPluginCatalog,
  type: string,
  config: JsonObject,
  artifact: Artifact,
  opts: { outputDir: string; build?: Partial<BuildContextValues>; templateDir?: string },
): Promise<Outcome> {
  const ui = new RecordingUi();
  const pp = await catalog.postProcessor(type);
  try {
    const prepared = await pp.configure([config]);
    const configErrors = prepared.diagnostics.filter((d) => d.severity === "error").map((d) => d.summary);
    if (configErrors.length) return { result: null, error: null, ui, configErrors };
    try {
      const result = await pp.postProcess(
        { ui, build: buildValues(opts.build), templateDir: opts.templateDir ?? opts.outputDir, signal: new AbortController().signal, outputDir: opts.outputDir },
        artifact,
      );
      return { result, error: null, ui, configErrors };
    } catch (e) {
      return { result: null, error: (e as Error).message, ui, configErrors };
    }
  } finally {
    await pp.close();
  }
}

/** Runs a system tool; returns exit code and output. */
export async function tool(argv: string[], cwd?: string): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out: out + err };
}
