import { defineCommand } from "citty";
import { validateCommand } from "../core/commands/validate.ts";
import { flagsOf } from "./resolve.ts";
import { filterArgs, parseFilters, parseVars, templateArg, varArgs } from "./flags.ts";

export default defineCommand({
  meta: { name: "validate", description: "Checks that a template is valid" },
  args: {
    template: templateArg,
    "allow-path": { type: "string", description: "let plugins also read this folder (repeatable; shown and recorded)" },
    ...varArgs,
    ...filterArgs,
    "syntax-only": { type: "boolean", default: false, description: "only check syntax; do not check configuration" },
    "evaluate-datasources": { type: "boolean", default: false, description: "run data sources while validating (HCL2 only; they may reach cloud services and incur costs)" },
  },
  async run(ctx) {
    const { args } = ctx;
    const flags = flagsOf(ctx);
    process.exitCode = await validateCommand({
      template: String(args.template),
      vars: parseVars(flags),
      varFiles: flags.all("var-file"),
      ...parseFilters(flags),
      syntaxOnly: args["syntax-only"] === true,
      evaluateDatasources: args["evaluate-datasources"] === true,
      allowPaths: flags.all("allow-path"),
    });
  },
});
