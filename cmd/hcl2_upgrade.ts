import { defineCommand } from "citty";
import { hcl2UpgradeCommand } from "../core/commands/hcl2-upgrade.ts";
import { flagsOf } from "./resolve.ts";
import { terminalSafe } from "../core/ui/sanitize.ts";

export default defineCommand({
  meta: { name: "hcl2_upgrade", description: "Transforms a JSON template into an HCL2 configuration" },
  args: {
    "output-file": { type: "string", description: 'output file name (default: TEMPLATE + ".pkr.hcl")' },
    "with-annotations": { type: "boolean", default: false, description: "add helpful comments to the generated HCL2" },
  },
  async run(ctx) {
    const flags = flagsOf(ctx);
    const paths = flags.positionals;
    if (paths.length !== 1) {
      process.stderr.write("Usage: imgb hcl2_upgrade [-output-file=PATH] [-with-annotations] TEMPLATE\n");
      process.exitCode = 1;
      return;
    }
    const outputFile = flags.all("output-file").at(-1);
    process.exitCode = hcl2UpgradeCommand({
      template: paths[0]!,
      ...(outputFile ? { outputFile } : {}),
      withAnnotations: flags.bool("with-annotations", false),
      // Lines can quote the template (names, values): printed through the one terminal sanitizer.
      say: (l) => process.stdout.write(`${terminalSafe(l)}\n`),
      error: (l) => process.stdout.write(`${terminalSafe(l)}\n`),
    });
  },
});
