// The command tree. Each verb is a thin citty declaration in its own file, loaded lazily so that
// `imgb version` does not pay for the HCL parser or the plugin host.
import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { terminalSafe } from "../core/ui/sanitize.ts";
import { IMGB_VERSION } from "../core/version.ts";
import { versionLine } from "../core/release/build-info.ts";
import { normalizeGoFlags } from "./args.ts";
import { reportError } from "./exit.ts";
import { parseFlags, resolveCommand, usageParent } from "./resolve.ts";

type Lazy = () => Promise<CommandDef>;
// Each verb declares its own argument types; the tree only needs to run them.
const lazy = (load: () => Promise<{ default: unknown }>): Lazy => () => load().then((m) => m.default as CommandDef);

const subCommands: Record<string, Lazy> = {
  build: lazy(() => import("./build.ts")),
  validate: lazy(() => import("./validate.ts")),
  inspect: lazy(() => import("./inspect.ts")),
  version: lazy(() => import("./version.ts")),
  init: lazy(() => import("./init.ts")),
  plugins: lazy(() => import("./plugins.ts")),
  registry: lazy(() => import("./registry.ts")),
  fmt: lazy(() => import("./fmt.ts")),
  hcl2_upgrade: lazy(() => import("./hcl2_upgrade.ts")),
  plugin: lazy(() => import("./plugin.ts")),
  "self-update": lazy(() => import("./self-update.ts")),
};

const main = defineCommand({
  meta: { name: "imgb", version: IMGB_VERSION, description: "Builds machine images from Packer templates, with sandboxed plugins" },
  subCommands,
});

/** citty's usage text, its colours kept only for a terminal that wants them (not a log, not NO_COLOR). */
async function usage(stream: NodeJS.WriteStream, command: CommandDef, parent?: CommandDef): Promise<string> {
  const text = await renderUsage(command, parent);
  return stream.isTTY && !process.env["NO_COLOR"] ? text : terminalSafe(text);
}

async function showUsage(command: CommandDef, parent?: CommandDef): Promise<void> {
  process.stdout.write(`${await usage(process.stdout, command, parent)}\n`);
}

export async function runCli(argv: string[]): Promise<void> {
  // One id per run, as Packer's main does: the manifest records it, and every child process
  // (shell-local, plugins) sees the same value. A value set by the caller is kept.
  if (!process.env["PACKER_RUN_UUID"]) process.env["PACKER_RUN_UUID"] = crypto.randomUUID();
  const args = normalizeGoFlags(argv);
  const verb = args[0];
  if (verb === "--version" || verb === "-v") {
    process.stdout.write(`${versionLine()}\n`);
    return;
  }
  if (verb === undefined || verb === "--help" || verb === "-h") {
    await showUsage(main);
    process.exitCode = verb === undefined ? 127 : 0;
    return;
  }
  const load = subCommands[verb];
  if (!load) {
    process.stderr.write(`imgb: unknown command "${verb}"\n\n`);
    await showUsage(main);
    process.exitCode = 127;
    return;
  }
  const verbCommand = await load();
  const { command, parents, rest } = await resolveCommand(verbCommand, args.slice(1));
  const parent = usageParent([main, ...parents]);
  const helpAt = rest.findIndex((a) => a === "--help" || a === "-h");
  const endAt = rest.indexOf("--");
  if (helpAt >= 0 && (endAt < 0 || helpAt < endAt)) {
    await showUsage(command, parent);
    return;
  }
  const flags = await parseFlags(command, rest);
  if (flags.unknown !== undefined) {
    process.stderr.write(`flag provided but not defined: ${flags.unknown}\n${await usage(process.stderr, command, parent)}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    // The flags were read once, here; the verb gets them as they are (repeated ones whole).
    await runCommand(command, { rawArgs: rest, data: { flags } });
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
