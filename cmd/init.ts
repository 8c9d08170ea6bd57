// `imgb init TEMPLATE`: installs the template's required plugins and writes .imgb.lock.json.
import { defineCommand } from "citty";
import { initCommand } from "../core/registry/commands.ts";
import { flagsOf } from "./resolve.ts";
import { parseVars, templateArg, varArgs } from "./flags.ts";

export default defineCommand({
  meta: { name: "init", description: "Installs the plugins a template requires, verified, and locks them" },
  args: {
    template: templateArg,
    upgrade: { type: "boolean", default: false, description: "update plugins to the newest versions the constraints allow" },
    "accept-capabilities": { type: "boolean", default: false, description: "grant the capabilities shown without asking (CI)" },
    "accept-downgrade": { type: "boolean", default: false, description: "with -upgrade, accept an older version when the locked one was yanked" },
    ...varArgs,
  },
  run: async (ctx) => {
    const { args } = ctx;
    const flags = flagsOf(ctx);
    return initCommand({
      template: String(args.template),
      vars: parseVars(flags),
      varFiles: flags.all("var-file"),
      upgrade: args.upgrade === true,
      acceptCapabilities: args["accept-capabilities"] === true,
      acceptDowngrade: args["accept-downgrade"] === true,
    });
  },
});
