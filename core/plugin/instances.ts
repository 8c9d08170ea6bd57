// Provisioner and PostProcessor (core/plugin/types.ts) on top of a plugin runtime: the engine calls
// prepare/provision or configure/post_process; the config is checked against the declared schema
// before the plugin sees it, and everything the plugin answers is validated here.
import { boundedText } from "../ui/sanitize.ts";
import { CREDENTIAL_KEYS } from "../builders/common/generated-data.ts";
import { rm } from "node:fs/promises";
import { errorDiag, type Diagnostic } from "../errors/diagnostic.ts";
import type { JsonObject, JsonValue } from "../values/json.ts";
import type { Artifact } from "../engine/artifact.ts";
import type { BuildContextValues } from "../template/model.ts";
import { PostProcessOutputSchema, PrepareOutputSchema, ProvisionOutputSchema, parseOutput, type ArtifactJson } from "./abi.ts";
import { containsSecret } from "../ui/secrets.ts";
import { checkConfigs } from "./config-check.ts";
import { removeImage } from "./host/container-images.ts";
import { pluginFailure, type PluginRuntime } from "./runtime.ts";
import { absolute, checkPath, type Root } from "./host/paths.ts";
import type {
  PluginDescription,
  PostProcessContext,
  PostProcessResult,
  PostProcessor,
  PrepareResult,
  ProvisionContext,
  Provisioner,
} from "./types.ts";

/** The engine container_image uses when the input artifact names none (the docker builder's default). */
const DEFAULT_ENGINE = ["podman"];

/** Go's runtime.GOOS for the imgb host (shell-local's only_on). */
export function hostOs(): string {
  return process.platform === "win32" ? "windows" : process.platform;
}

/**
 * The build values a plugin's run sees: the generated credentials (CREDENTIAL_KEYS) only when it was
 * granted `communicator` or `local_exec` — it reaches the machine, or everything the user can, anyway.
 * Any other plugin got the machine's password and private key (possibly the user's own key file's
 * content) in `build.generated` and through `{{ build `SSHPrivateKey` }}`.
 */
export function buildFor(b: BuildContextValues, granted: ReadonlySet<string>): BuildContextValues {
  if (granted.has("communicator") || granted.has("local_exec")) return b;
  if (!CREDENTIAL_KEYS.some((k) => k in b.generated)) return b;
  const generated = Object.fromEntries(Object.entries(b.generated).map(([k, v]) => [k, CREDENTIAL_KEYS.includes(k) ? "" : v]));
  return { ...b, generated };
}

export function buildJson(b: BuildContextValues): JsonObject {
  return {
    name: b.buildName,
    source_name: b.sourceName,
    builder_type: b.builderType,
    generated: b.generated,
    placeholders: b.placeholders,
    // -force (Packer's packer_force) and the run id (PACKER_RUN_UUID): the manifest post-processor needs both.
    force: b.force ?? false,
    run_uuid: process.env.PACKER_RUN_UUID ?? "",
  };
}

function artifactJson(a: Artifact): ArtifactJson {
  return { builder_id: a.builderId, id: a.id, files: a.files, string: a.string, state: a.state };
}

const NEVER = new AbortController().signal;

/**
 * Packer's use_env_var_file, turned on when the user left it unset and a variable's value holds a
 * sensitive value: the values then go through a file only the build's user can read, never through
 * a command line every user of the machine can see (docs/SECRETS.md).
 */
export function envFileDefault(description: PluginDescription, configs: JsonObject[]): JsonObject[] {
  if (!description.schema.fields.some((f) => f.name === "use_env_var_file")) return configs;
  if (configs.some((c) => c["use_env_var_file"] !== undefined && c["use_env_var_file"] !== null)) return configs;
  const sensitive = configs.some((c) => {
    const vars = c["environment_vars"];
    const env = c["env"];
    const texts = [...(Array.isArray(vars) ? vars : [vars]), ...(env && typeof env === "object" && !Array.isArray(env) ? Object.values(env) : [])];
    return texts.some((t) => typeof t === "string" && containsSecret(t));
  });
  return sensitive ? [...configs, { use_env_var_file: true }] : configs;
}

/**
 * The first file of a post-processor's answer it could not have written, as the refusal to report,
 * or null. Allowed: the input artifact's files; files this call wrote through host functions; and,
 * for a plugin granted artifact_read or artifact_write, files inside its output directory (artifice
 * names files a provisioner downloaded there). Symlinks are resolved by the one grant check.
 */
async function forgedFile(
  files: string[],
  from: { input: string[]; written: Map<string, boolean>; outputDir: string; granted: ReadonlySet<string> },
): Promise<string | null> {
  const roots: Root[] = from.input.map((f) => ({ path: f, exact: true, label: "the input artifact's files" }));
  for (const f of from.written.keys()) roots.push({ path: f, exact: true, label: "the files this call wrote" });
  const outputGranted = from.granted.has("artifact_read") || from.granted.has("artifact_write");
  if (outputGranted) roots.push({ path: from.outputDir, label: "the output directory" });
  const labels = `the input artifact's files and the files this call wrote${outputGranted ? " and the output directory" : ""}`;
  for (const f of files) {
    const r = await checkPath(f, roots);
    if (!r.ok) {
      const why = r.reason.startsWith("outside") || r.reason.startsWith("no local") ? `outside ${labels}` : r.reason;
      return `post_process returned an artifact file it could not have written: ${JSON.stringify(f)} (${why})`;
    }
  }
  return null;
}

let prepareCalls = 0;

/**
 * How many Prepare/Configure calls reached a plugin in this process: the component pipeline
 * prepares each component once per build, and tests and benchmarks count it
 * (IMGB_DEBUG_PREPARE_COUNT=1 makes `validate` and `build` print it on stderr).
 */
export function prepareCallCount(): number {
  return prepareCalls;
}

/** Shared prepare/configure: schema check, then the plugin's own validation. */
async function prepareWith(runtime: PluginRuntime, description: PluginDescription, fn: string, configs: JsonObject[]): Promise<PrepareResult> {
  const plugin = description.name;
  const checked = checkConfigs(plugin, description.schema, envFileDefault(description, configs));
  if (checked.diagnostics.some((d) => d.severity === "error")) return { config: {}, diagnostics: checked.diagnostics };
  prepareCalls++;
  const out = await runtime.call(fn, { configs: checked.configs }, "prepare", {}, NEVER);
  const parsed = parseOutput(PrepareOutputSchema, fn, out);
  if (!parsed.ok) throw pluginFailure(plugin, parsed.message);
  const where = `plugin ${plugin}`;
  const diagnostics: Diagnostic[] = [...checked.diagnostics];
  for (const w of parsed.value.warnings) diagnostics.push({ severity: "warning", summary: boundedText(w), detail: where });
  if ("errors" in parsed.value) {
    for (const e of parsed.value.errors) diagnostics.push(errorDiag(boundedText(e), undefined, where));
    return { config: {}, diagnostics };
  }
  return { config: parsed.value.config, diagnostics };
}

/** What both kinds share: the runtime, and the config the last successful Prepare/Configure answered. */
abstract class WasmInstance {
  protected prepared: JsonObject | null = null;

  constructor(
    readonly description: PluginDescription,
    protected readonly runtime: PluginRuntime,
  ) {}

  get pids(): number[] {
    return this.runtime.pids;
  }

  protected async prepareAs(fn: "prepare" | "configure", configs: JsonObject[]): Promise<PrepareResult> {
    const r = await prepareWith(this.runtime, this.description, fn, configs);
    this.prepared = r.diagnostics.some((d) => d.severity === "error") ? null : r.config;
    return r;
  }

  /** The config a run uses: the one the engine passes, or the last successful prepare's. */
  protected configFor(given: JsonObject | undefined, run: string, prepare: string): JsonObject {
    const config = given ?? this.prepared;
    if (!config) throw pluginFailure(this.description.name, `${run} called before a successful ${prepare}`);
    return config;
  }

  close(): Promise<void> {
    return this.runtime.close();
  }
}

export class WasmProvisioner extends WasmInstance implements Provisioner {
  prepare(configs: JsonObject[]): Promise<PrepareResult> {
    return this.prepareAs("prepare", configs);
  }

  async provision(ctx: ProvisionContext): Promise<void> {
    const config = this.configFor(ctx.config, "provision", "prepare");
    const build = buildFor(ctx.build, this.runtime.granted);
    const input: JsonValue = { config, build: buildJson(build), template_dir: ctx.templateDir, host_os: hostOs() };
    const out = await this.runtime.call(
      "provision",
      input,
      "run",
      { ui: ctx.ui, communicator: ctx.communicator, build, templateDir: ctx.templateDir },
      ctx.signal,
    );
    const parsed = parseOutput(ProvisionOutputSchema, "provision", out);
    if (!parsed.ok) throw pluginFailure(this.description.name, parsed.message);
  }
}

export class WasmPostProcessor extends WasmInstance implements PostProcessor {
  configure(configs: JsonObject[]): Promise<PrepareResult> {
    return this.prepareAs("configure", configs);
  }

  async postProcess(ctx: PostProcessContext, input: Artifact): Promise<PostProcessResult> {
    const plugin = this.description.name;
    const config = this.configFor(ctx.config, "post_process", "configure");
    const outputDir = ctx.outputDir ?? process.cwd();
    const build = buildFor(ctx.build, this.runtime.granted);
    const payload: JsonValue = {
      config,
      build: buildJson(build),
      template_dir: ctx.templateDir,
      host_os: hostOs(),
      output_dir: outputDir,
      artifact: artifactJson(input),
    };
    const containers = {
      engine: input.image?.engine ?? input.engine ?? DEFAULT_ENGINE,
      ...(input.image ? { image: input.image.ref } : {}),
      named: [] as string[],
    };
    const written = new Map<string, boolean>();
    const removeCreated = () => Promise.all([...written].filter(([, created]) => created).map(([f]) => rm(f, { force: true })));
    let a: ArtifactJson;
    let parsed;
    try {
      const out = await this.runtime.call(
        "post_process",
        payload,
        "run",
        { ui: ctx.ui, build, templateDir: ctx.templateDir, artifactFiles: input.files, outputDir, containers, written },
        ctx.signal,
      );
      const p = parseOutput(PostProcessOutputSchema, "post_process", out);
      if (!p.ok) throw pluginFailure(plugin, p.message);
      parsed = p;
      a = p.value.artifact;
      // Every file the new artifact names must be one the plugin was given or could have written.
      const forged = await forgedFile(a.files, { input: input.files, written, outputDir, granted: this.runtime.granted });
      if (forged) throw pluginFailure(plugin, forged);
    } catch (e) {
      // Nothing this failed call created stays behind.
      await removeCreated();
      throw e;
    }
    const same = a.builder_id === input.builderId && a.id === input.id && a.files.length === input.files.length && a.files.every((f, i) => f === input.files[i]);
    // A new artifact is an image only when it names the input's image, or an image this call named.
    const isImage = a.files.length === 0 && ((containers.image !== undefined && a.id === containers.image) || containers.named.includes(a.id));
    const named = isImage ? { ref: a.id, engine: containers.engine } : undefined;
    const artifact: Artifact = same
      ? input
      : {
          builderId: a.builder_id,
          id: a.id,
          files: a.files,
          // Shown in the closing summary: bounded like every text a plugin words.
          string: boundedText(a.string),
          state: a.state as Record<string, JsonValue>,
          destroy: async () => {
            if (named) await removeImage(named);
            // Only files this call created: never the user's files, never the input's.
            await Promise.all(a.files.filter((f) => written.get(absolute(f)) === true).map((f) => rm(f, { force: true })));
          },
          ...(named ? { image: named } : {}),
        };
    return { artifact, keep: parsed.value.keep, forceOverride: parsed.value.force_override };
  }
}
