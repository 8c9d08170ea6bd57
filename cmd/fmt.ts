import { defineCommand } from "citty";
import { fmtCommand } from "../core/commands/fmt.ts";
import { flagsOf } from "./resolve.ts";

export default defineCommand({
  meta: { name: "fmt", description: "Rewrites HCL2 templates and var files in canonical format" },
  args: {
    check: { type: "boolean", default: false, description: "check if the input is formatted; exit 3 when it is not" },
    diff: { type: "boolean", default: false, description: "display diffs of formatting changes" },
    write: { type: "boolean", default: true, description: "write changes back to the files (off with -check)" },
    recursive: { type: "boolean", default: false, description: "also process files in subdirectories" },
  },
  async run(ctx) {
    // Go-style booleans as Packer users write them (`-check`, `-write=false`): the one flag reading.
    const flags = flagsOf(ctx);
    process.exitCode = await fmtCommand({
      paths: flags.positionals,
      check: flags.bool("check", false),
      diff: flags.bool("diff", false),
      write: flags.bool("write", true),
      recursive: flags.bool("recursive", false),
      out: (text) => process.stdout.write(text),
      readStdin: () => Bun.stdin.text(),
    });
  },
});
