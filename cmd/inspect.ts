import { defineCommand } from "citty";
import { inspectCommand } from "../core/commands/inspect.ts";
import { repeatedFlag } from "./args.ts";
import { parseVars, templateArg, varArgs } from "./flags.ts";

export default defineCommand({
  meta: { name: "inspect", description: "Shows the variables, builds and components of a template (no variable needs a value)" },
  args: {
    template: templateArg,
    ...varArgs,
    "machine-readable": { type: "boolean", default: false, description: "Packer's machine-readable output (template-variable, template-builder, ...)" },
  },
  async run({ args, rawArgs }) {
    process.exitCode = await inspectCommand({
      template: String(args.template),
      vars: parseVars(rawArgs),
      varFiles: repeatedFlag(rawArgs, "var-file"),
      machineReadable: args["machine-readable"] === true,
    });
  },
});
