import { defineCommand } from "citty";
import { inspectCommand } from "../core/commands/inspect.ts";
import { repeatedFlag } from "./args.ts";
import { parseVars, templateArg, varArgs } from "./flags.ts";

export default defineCommand({
  meta: { name: "inspect", description: "Shows the variables, builds and components of a template" },
  args: { template: templateArg, ...varArgs },
  async run({ args, rawArgs }) {
    process.exitCode = await inspectCommand(String(args.template), parseVars(rawArgs), repeatedFlag(rawArgs, "var-file"));
  },
});
