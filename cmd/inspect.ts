import { defineCommand } from "citty";
import { inspectCommand } from "../core/commands/inspect.ts";
import { flagsOf } from "./resolve.ts";
import { parseVars, templateArg, varArgs } from "./flags.ts";

export default defineCommand({
  meta: { name: "inspect", description: "Shows the variables, builds and components of a template (no variable needs a value)" },
  args: {
    template: templateArg,
    ...varArgs,
    "machine-readable": { type: "boolean", default: false, description: "Packer's machine-readable output (template-variable, template-builder, ...)" },
  },
  async run(ctx) {
    const { args } = ctx;
    const flags = flagsOf(ctx);
    process.exitCode = await inspectCommand({
      template: String(args.template),
      vars: parseVars(flags),
      varFiles: flags.all("var-file"),
      machineReadable: args["machine-readable"] === true,
    });
  },
});
