// `imgb plugins install|installed|remove|verify|mirror`. Each verb calls one function in
// core/registry/commands.ts.
import { defineCommand } from "citty";
import { pluginsInstallCommand, pluginsInstalledCommand, pluginsMirrorCommand, pluginsRemoveCommand, pluginsVerifyCommand } from "../core/registry/commands.ts";
import { UserError } from "../core/errors/diagnostic.ts";
import { flagsOf } from "./resolve.ts";

const templateDirArg = { "template-dir": { type: "string", description: "use this template's lock instead of the user's installed list" } } as const;
const dirOf = (args: Record<string, unknown>) => (args["template-dir"] !== undefined ? { templateDir: String(args["template-dir"]) } : {});

function int(name: string, v: unknown): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`--${name}=${String(v)}: expected a whole number`);
  return n;
}

const install = defineCommand({
  meta: { name: "install", description: "Installs namespace/name[@constraint] from the registry, or a local .wasm with --allow-unsigned" },
  args: {
    plugin: { type: "positional", required: true, description: "namespace/name[@constraint] or FILE.wasm" },
    "allow-unsigned": { type: "boolean", default: false, description: "allow a local module with no signature or vetting" },
    "accept-capabilities": { type: "boolean", default: false, description: "grant the capabilities shown without asking (CI)" },
    upgrade: { type: "boolean", default: false, description: "pick the newest matching version even if one is installed" },
    name: { type: "string", description: "namespace/name for a local .wasm" },
    version: { type: "string", description: "version for a local .wasm" },
    capabilities: { type: "string", description: "capabilities to grant a local .wasm, comma-separated" },
    memory: { type: "string", description: "memory limit in MiB for a local .wasm" },
    cpu: { type: "string", description: "CPU time limit per call in ms for a local .wasm" },
    ...templateDirArg,
  },
  run: ({ args, ...ctx }) =>
    pluginsInstallCommand({
      spec: String(args.plugin),
      allowUnsigned: args["allow-unsigned"] === true,
      acceptCapabilities: args["accept-capabilities"] === true,
      upgrade: args.upgrade === true,
      ...(args.name !== undefined ? { name: String(args.name) } : {}),
      ...(args.version !== undefined ? { version: String(args.version) } : {}),
      ...(args.capabilities !== undefined ? { capabilities: flagsOf(ctx).list("capabilities") } : {}),
      memoryMiB: int("memory", args.memory),
      cpuMs: int("cpu", args.cpu),
      ...dirOf(args),
    }),
});

const installed = defineCommand({
  meta: { name: "installed", description: "Lists installed plugins with their versions, hashes and granted capabilities" },
  args: { ...templateDirArg },
  run: ({ args }) => pluginsInstalledCommand(dirOf(args)),
});

const remove = defineCommand({
  meta: { name: "remove", description: "Removes an installed plugin" },
  args: { plugin: { type: "positional", required: true, description: "namespace/name" }, ...templateDirArg },
  run: ({ args }) => pluginsRemoveCommand({ name: String(args.plugin), ...dirOf(args) }),
});

const verify = defineCommand({
  meta: { name: "verify", description: "Re-checks every installed module against its recorded sha256 (and its signed statement)" },
  args: { ...templateDirArg, repair: { type: "boolean", default: false, description: "download a missing or altered signed module again" } },
  run: async ({ args }) => {
    process.exitCode = await pluginsVerifyCommand({ ...dirOf(args), repair: args.repair === true });
  },
});

const mirror = defineCommand({
  meta: { name: "mirror", description: "Copies a registry for offline use, verifying every file" },
  args: { url: { type: "positional", required: true, description: "a configured registry's name or URL, or a URL (with IMGB_REGISTRY_ROOT)" }, dir: { type: "positional", required: true, description: "destination folder" } },
  run: ({ args }) => pluginsMirrorCommand({ url: String(args.url), dir: String(args.dir) }),
});

export default defineCommand({
  meta: { name: "plugins", description: "Install, list, remove, verify and mirror registry plugins" },
  subCommands: { install, installed, remove, verify, mirror },
});
