import { defineCommand } from "citty";
import { buildCommand } from "../core/commands/build.ts";
import { flagsOf } from "./resolve.ts";
import { filterArgs, parseCount, parseFilters, parseOnError, parseVars, templateArg, uiArgs, uiFlags, varArgs } from "./flags.ts";

export default defineCommand({
  meta: { name: "build", description: "Runs every build in a template and produces its artifacts" },
  args: {
    template: templateArg,
    "allow-path": { type: "string", description: "let plugins also read this folder (repeatable; shown and recorded)" },
    ...varArgs,
    ...filterArgs,
    ...uiArgs,
    "parallel-builds": { type: "string", description: "number of builds to run at once; 0 = all (default), 1 = one at a time" },
    "on-error": { type: "string", default: "cleanup", description: "cleanup | abort | ask | run-cleanup-provisioner" },
    force: { type: "boolean", default: false, description: "overwrite existing artifacts" },
  },
  async run(ctx) {
    const { args } = ctx;
    const flags = flagsOf(ctx);
    process.exitCode = await buildCommand({
      template: String(args.template),
      vars: parseVars(flags),
      varFiles: flags.all("var-file"),
      ...parseFilters(flags),
      ...uiFlags(args),
      parallelBuilds: parseCount("parallel-builds", args["parallel-builds"], 0),
      onError: parseOnError(args["on-error"]),
      force: args.force === true,
      allowPaths: flags.all("allow-path"),
    });
  },
});
