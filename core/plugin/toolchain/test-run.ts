// `imgb plugin test [DIR]`: the plugin author's inner loop. Loads the built module into the real
// sandbox with the capabilities it declares, then: describe; prepare/configure with every sample
// config of test/configs.json (the "good" ones must pass, each "bad" one must fail with its error);
// provision against the local communicator in a temporary folder, or post_process against a
// temporary artifact. Reports each step; any failure fails the command.
import { describeIssues } from "../../errors/valibot-issues.ts";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { UserError } from "../../errors/diagnostic.ts";
import { localCommunicator } from "../../communicator/local.ts";
import type { JsonObject } from "../../values/json.ts";
import type { ProgressTracker, Ui } from "../../ui/types.ts";
import type { Artifact } from "../../engine/artifact.ts";
import { createPluginCatalog } from "../catalog.ts";
import { MANIFEST, defaultWasmPath, readManifest } from "./project.ts";

export const TEST_CONFIGS = join("test", "configs.json");

const Config = v.record(v.string(), v.unknown());
const ConfigsSchema = v.strictObject({
  good: v.pipe(v.array(Config), v.minLength(1, "needs at least one good config (the run uses the first)")),
  bad: v.optional(v.array(v.strictObject({ config: Config, error: v.string() })), []),
});

/** A UI that writes what the plugin says, indented under the step. */
class ReportUi implements Ui {
  lines = 0;
  constructor(private readonly out: (line: string) => void) {}
  say(m: string) {
    this.lines++;
    this.out(`    ==> ${m}`);
  }
  message(m: string) {
    this.lines++;
    this.out(`        ${m}`);
  }
  error(m: string) {
    this.lines++;
    this.out(`    !!! ${m}`);
  }
  async ask(q: string): Promise<string> {
    this.out(`    ? ${q} (answered with an empty line)`);
    return "";
  }
  progress(label: string): ProgressTracker {
    this.out(`    ... ${label}`);
    return { update: () => {}, finish: () => {} };
  }
  machine() {}
}

function readConfigs(dir: string): v.InferOutput<typeof ConfigsSchema> {
  const path = join(dir, TEST_CONFIGS);
  if (!existsSync(path)) throw new UserError(`${path} not found: sample configs for prepare/configure ({"good": [{...}], "bad": [{"config": {...}, "error": "..."}]})`);
  const parsed = v.safeParse(ConfigsSchema, JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    throw new UserError(`${path}: ${describeIssues(parsed.issues, 1)}`);
  }
  return parsed.output;
}

/** Runs the checks; writes a report line by line; returns the number of failed steps. */
export async function testPluginProject(dirArg: string, out: (line: string) => void, opts: { wasm?: string } = {}): Promise<number> {
  const dir = resolve(dirArg);
  const m = readManifest(dir);
  const wasmPath = resolve(opts.wasm ?? defaultWasmPath(dir, m));
  if (!existsSync(wasmPath)) throw new UserError(`${wasmPath} not found: run \`imgb plugin build\` first`);
  const configs = readConfigs(dir);
  let failed = 0;
  const pass = (what: string) => out(`ok   ${what}`);
  const fail = (what: string) => {
    failed++;
    out(`FAIL ${what}`);
  };

  const catalog = createPluginCatalog({ embedded: false });
  const work = mkdtempSync(join(tmpdir(), "imgb-plugin-test-"));
  try {
    const d = await catalog.registerWasm(new Uint8Array(readFileSync(wasmPath)), "declared", "installed", wasmPath);
    if (d.kind !== m.kind || d.name !== m.name) fail(`describe: ${d.kind} ${d.name}, but ${MANIFEST} says ${m.kind} ${m.name}`);
    else pass(`describe: ${d.kind} ${d.name} ${d.version}, capabilities: ${d.capabilities.join(", ") || "none"}`);
    const verb = m.kind === "provisioner" ? "prepare" : "configure";
    const component = m.kind === "provisioner" ? await catalog.provisioner(m.name) : await catalog.postProcessor(m.name);
    const check = (cfg: JsonObject) => ("prepare" in component ? component.prepare([cfg]) : component.configure([cfg]));
    let prepared: JsonObject | null = null;
    for (const [i, cfg] of configs.good.entries()) {
      const r = await check(cfg as JsonObject);
      const errors = r.diagnostics.filter((x) => x.severity === "error");
      if (errors.length > 0) fail(`${verb} good[${i}]: ${errors.map((e) => e.summary).join("; ")}`);
      else {
        pass(`${verb} accepts good[${i}]`);
        prepared ??= cfg as JsonObject;
      }
    }
    for (const [i, bad] of configs.bad.entries()) {
      const r = await check(bad.config as JsonObject);
      const errors = r.diagnostics.filter((x) => x.severity === "error").map((e) => e.summary);
      if (errors.some((e) => e.includes(bad.error))) pass(`${verb} rejects bad[${i}]: ${bad.error}`);
      else fail(`${verb} bad[${i}]: expected an error containing ${JSON.stringify(bad.error)}, got ${errors.length ? errors.map((e) => JSON.stringify(e)).join(", ") : "none"}`);
    }
    if (prepared === null) {
      fail(`${m.kind === "provisioner" ? "provision" : "post_process"}: skipped, no good config passed ${verb}`);
      return failed;
    }
    // The run uses the first good config, prepared last (the instance keeps its last prepare).
    await check(prepared);
    const ui = new ReportUi(out);
    const build = { buildName: "plugin-test", sourceName: "plugin-test", builderType: "null", generated: {}, placeholders: false };
    const signal = new AbortController().signal;
    try {
      if ("provision" in component) {
        out(`...  provision (local communicator, working folder ${work})`);
        await component.provision({ ui, communicator: localCommunicator(), build, templateDir: work, signal });
        pass(`provision (${ui.lines} UI line(s))`);
      } else {
        const file = join(work, "artifact.raw");
        writeFileSync(file, "imgb plugin test artifact\n");
        const artifact: Artifact = { builderId: "imgb.plugin-test", id: "plugin-test", files: [file], string: `test artifact ${file}`, state: {}, destroy: async () => {} };
        out(`...  post_process (artifact ${file}, output folder ${work})`);
        const r = await component.postProcess({ ui, build, templateDir: work, signal, outputDir: work }, artifact);
        pass(`post_process -> artifact ${r.artifact.id} (${r.artifact.files.length} file(s)), keep=${r.keep}`);
      }
    } catch (e) {
      fail(`${"provision" in component ? "provision" : "post_process"}: ${(e as Error).message}`);
    }
  } finally {
    await catalog.closeAll();
    rmSync(work, { recursive: true, force: true });
  }
  return failed;
}
