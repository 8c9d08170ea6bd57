import { defineCommand } from "citty";
import { hcl2UpgradeCommand } from "../core/commands/hcl2-upgrade.ts";
import { boolFlag, positionals } from "./fmt.ts";
import { terminalSafe } from "../core/ui/sanitize.ts";

export default defineCommand({
  meta: { name: "hcl2_upgrade", description: "Transforms a JSON template into an HCL2 configuration" },
  args: {
    "output-file": { type: "string", description: 'output file name (default: TEMPLATE + ".pkr.hcl")' },
    "with-annotations": { type: "boolean", default: false, description: "add helpful comments to the generated HCL2" },
  },
  async run({ args, rawArgs }) {
    const paths = positionals(rawArgs.filter((a, i) => !(rawArgs[i - 1] === "--output-file")));
    if (paths.length !== 1) {
      process.stderr.write("Usage: imgb hcl2_upgrade [-output-file=PATH] [-with-annotations] TEMPLATE\n");
      process.exitCode = 1;
      return;
    }
    const outputFile = typeof args["output-file"] === "string" ? args["output-file"] : undefined;
    process.exitCode = hcl2UpgradeCommand({
      template: paths[0]!,
      ...(outputFile ? { outputFile } : {}),
      withAnnotations: boolFlag(rawArgs, "with-annotations", false),
      // Lines can quote the template (names, values): printed through the one terminal sanitizer.
      say: (l) => process.stdout.write(`${terminalSafe(l)}\n`),
      error: (l) => process.stdout.write(`${terminalSafe(l)}\n`),
    });
  },
});
