// `imgb plugin new NAME`: a new plugin folder that builds with plugins-wasm/build.ts as it is.
// Inside plugins-wasm/ the plugin is first-party (embedded after the next build); elsewhere it is a
// third-party plugin that uses the same SDK through a relative path or a copy of it.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { UserError } from "../errors/diagnostic.ts";
import type { PluginKind } from "./types.ts";

export interface ScaffoldOptions {
  kind?: PluginKind;
  /** Where the SDK lives (default: this repository's plugins-wasm/sdk). */
  sdkDir?: string;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const REPO_SDK = join(import.meta.dir, "..", "..", "plugins-wasm", "sdk");

function provisionerSource(name: string, sdk: string): string {
  return `// ${name}: a provisioner. Build: bun run plugins-wasm/build.ts (or imgb's plugin build).
import { Build, Description, Json, Plugin, Prepared, Ui, Comm, fail, mergeConfigs, ok } from "${sdk}/assembly/sdk";

// What the plugin is, its configuration keys, and the capabilities it needs (docs/plugin-abi.md).
export function describe(): i32 {
  const d = new Description("provisioner", "${name}", "0.1.0")
    .field("message", "string", true, false, "What to say")
    .field("command", "string")
    .capability("communicator");
  return ok(d.toJson());
}

// Packer's Prepare: check the merged config, fill in defaults. No side effects here.
export function prepare(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("message").length == 0) p.error("message must not be empty");
  return p.finish(c);
}

// Runs once per build, with the prepared config and the build's communicator.
export function provision(): i32 {
  const build = new Build(Plugin.input());
  const c = build.config;
  Ui.say(c.getString("message") + " (" + build.name + ")");
  const command = c.getString("command");
  if (command.length > 0) {
    const r = Comm.start(command);
    if (r.exitStatus != 0) return fail("command exited with status " + r.exitStatus.toString());
  }
  return ok(Json.obj());
}
`;
}

function postProcessorSource(name: string, sdk: string): string {
  return `// ${name}: a post-processor. Build: bun run plugins-wasm/build.ts (or imgb's plugin build).
import { ArtifactInfo, Description, Plugin, PostProcessInput, Prepared, Ui, mergeConfigs, ok, postProcessed } from "${sdk}/assembly/sdk";

export function describe(): i32 {
  const d = new Description("post-processor", "${name}", "0.1.0")
    .field("keep_input_artifact", "bool")
    .capability("artifact_read");
  return ok(d.toJson());
}

// Packer's Configure: check the merged config. No side effects here.
export function configure(): i32 {
  const p = new Prepared();
  return p.finish(mergeConfigs(Plugin.input()));
}

// Receives the previous artifact; answers the next one, and whether to keep the input.
export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const from = input.artifact;
  Ui.say("${name}: " + from.files.length.toString() + " file(s) in " + from.id);
  const out = new ArtifactInfo();
  out.builderId = "${name}";
  out.id = from.id;
  out.files = from.files;
  out.description = from.description;
  return postProcessed(out, true);
}
`;
}

/**
 * Creates `dir/NAME/` with imgb-plugin.json and assembly/plugin.ts (a working provisioner or
 * post-processor). Returns the folder. Refuses an existing folder or a bad name.
 */
export function scaffoldPlugin(name: string, dir: string, opts: ScaffoldOptions = {}): string {
  if (!NAME.test(name)) throw new UserError(`plugin name ${JSON.stringify(name)}: use lower-case letters, digits and dashes, starting with a letter`);
  const kind = opts.kind ?? "provisioner";
  const folder = join(dir, name);
  if (existsSync(folder)) throw new UserError(`${folder} already exists`);
  const assembly = join(folder, "assembly");
  mkdirSync(assembly, { recursive: true });
  let sdk = relative(folder, opts.sdkDir ?? REPO_SDK);
  // From assembly/plugin.ts the SDK is one level further up.
  sdk = join("..", sdk);
  writeFileSync(join(folder, "imgb-plugin.json"), `${JSON.stringify({ kind, name }, null, 2)}\n`);
  writeFileSync(join(assembly, "plugin.ts"), kind === "provisioner" ? provisionerSource(name, sdk) : postProcessorSource(name, sdk));
  writeFileSync(
    join(folder, "README.md"),
    `# ${name}\n\nAn imgb ${kind} plugin (ABI imgb-plugin/1, see docs/plugin-abi.md and plugins-wasm/sdk/README.md).\n\n` +
      "Entry: `assembly/plugin.ts`. Inside plugins-wasm/ it is built to `plugins-wasm/dist/" +
      `${name}.wasm\` by \`bun run plugins-wasm/build.ts\` and embedded in the imgb binary.\n`,
  );
  return folder;
}
