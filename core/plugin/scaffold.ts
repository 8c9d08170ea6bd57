// `imgb plugin new NAMESPACE/NAME`: a self-contained plugin project that builds with nothing but the
// imgb binary: imgb-plugin.json, assembly/plugin.ts, the SDK sources this binary was built with
// (sdk/), sample configs for `imgb plugin test` (test/configs.json) and a README.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../errors/diagnostic.ts";
import { isValidPluginName } from "../registry/names.ts";
import { sdkFiles } from "./sdk-files.ts";
import { MANIFEST } from "./toolchain/project.ts";
import type { PluginKind } from "./types.ts";

export interface ScaffoldOptions {
  kind?: PluginKind;
}

function provisionerSource(name: string): string {
  return `// ${name}: a provisioner. Build: imgb plugin build; try it: imgb plugin test.
import { Build, Comm, Description, Json, Plugin, Prepared, Ui, fail, mergeConfigs, ok } from "../sdk/assembly/sdk";

// What the plugin is, its configuration keys, and the capabilities it needs (docs/plugin-abi.md).
// The name must be the one in imgb-plugin.json: it is the type templates use.
export function describe(): i32 {
  const d = new Description("provisioner", "${name}", "0.1.0")
    .field("message", "string", true, false, "What to say")
    .field("command", "string", false, false, "A command to run on the machine")
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

function postProcessorSource(name: string): string {
  return `// ${name}: a post-processor. Build: imgb plugin build; try it: imgb plugin test.
import { ArtifactInfo, Description, Plugin, PostProcessInput, Prepared, Ui, mergeConfigs, ok, postProcessed } from "../sdk/assembly/sdk";

// The name must be the one in imgb-plugin.json: it is the type templates use.
export function describe(): i32 {
  const d = new Description("post-processor", "${name}", "0.1.0")
    .field("note", "string", false, false, "Said when the artifact passes")
    .capability("artifact_read");
  return ok(d.toJson());
}

// Packer's Configure: check the merged config. No side effects here.
export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.has("note") && c.getString("note").length == 0) p.error("note must not be empty when set");
  return p.finish(c);
}

// Receives the previous artifact; answers the next one, and whether to keep the input.
export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const from = input.artifact;
  Ui.say("${name}: " + from.files.length.toString() + " file(s) in " + from.id + (input.config.has("note") ? ": " + input.config.getString("note") : ""));
  const out = new ArtifactInfo();
  out.builderId = "${name}";
  out.id = from.id;
  out.files = from.files;
  out.description = from.description;
  return postProcessed(out, true);
}
`;
}

function testConfigs(kind: PluginKind): string {
  const v =
    kind === "provisioner"
      ? { good: [{ message: "hello from the plugin test", command: "echo ran on the machine" }], bad: [{ config: { message: "" }, error: "message must not be empty" }] }
      : { good: [{ note: "checked" }, {}], bad: [{ config: { note: "" }, error: "note must not be empty when set" }] };
  return `${JSON.stringify(v, null, 2)}\n`;
}

function readme(name: string, kind: PluginKind, short: string): string {
  const use =
    kind === "provisioner"
      ? `{ "builders": [{ "type": "null", "communicator": "none" }],\n  "provisioners": [{ "type": "${name}", "message": "hello" }] }`
      : `{ "builders": [{ "type": "null", "communicator": "none" }],\n  "post-processors": [{ "type": "${name}" }] }`;
  return `# ${name}

An imgb ${kind} (ABI imgb-plugin/1). Everything it needs is in this folder: the SDK sources in
\`sdk/\` (the version of the imgb that created it) and the compiler inside the imgb binary.

    imgb plugin build      # assembly/plugin.ts -> dist/${short}.wasm, then the load-time checks
    imgb plugin test       # describe, ${kind === "provisioner" ? "prepare" : "configure"} with test/configs.json, then a real run in a temporary folder

Use it in a template (the type is the name in imgb-plugin.json, which \`describe\` must repeat):

    imgb plugins install dist/${short}.wasm --allow-unsigned --name ${name} --version 0.1.0 --capabilities ${kind === "provisioner" ? "communicator" : "artifact_read"}

\`\`\`json
${use}
\`\`\`

Or publish it to a registry: \`imgb registry sign dist/${short}.wasm --name ${name} ...\` and
\`imgb registry publish\`. The SDK's API is in sdk/README.md.
`;
}

/**
 * Creates `dir/NAME/` (NAME without the namespace) for plugin `namespace/name`. Returns the folder.
 * Refuses an existing folder or a name that is not the registry's `namespace/name`.
 */
export async function scaffoldPlugin(name: string, dir: string, opts: ScaffoldOptions = {}): Promise<string> {
  if (!isValidPluginName(name)) {
    throw new UserError(`plugin name ${JSON.stringify(name)}: use "namespace/name" (lowercase letters, digits and inner hyphens), the name the registry and templates use`);
  }
  const kind = opts.kind ?? "provisioner";
  const short = name.slice(name.indexOf("/") + 1);
  const folder = join(dir, short);
  if (existsSync(folder)) throw new UserError(`${folder} already exists`);
  const files: Record<string, string> = {
    [MANIFEST]: `${JSON.stringify({ kind, name, version: "0.1.0" }, null, 2)}\n`,
    "assembly/plugin.ts": kind === "provisioner" ? provisionerSource(name) : postProcessorSource(name),
    "test/configs.json": testConfigs(kind),
    "README.md": readme(name, kind, short),
    ".gitignore": "dist/\n",
  };
  for (const [rel, text] of Object.entries(await sdkFiles())) files[join("sdk", rel)] = text;
  for (const [rel, text] of Object.entries(files)) {
    const path = join(folder, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return folder;
}
