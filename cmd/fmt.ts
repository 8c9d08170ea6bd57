import { defineCommand } from "citty";
import { fmtCommand } from "../core/commands/fmt.ts";

export default defineCommand({
  meta: { name: "fmt", description: "Rewrites HCL2 templates and var files in canonical format" },
  args: {
    check: { type: "boolean", default: false, description: "check if the input is formatted; exit 3 when it is not" },
    diff: { type: "boolean", default: false, description: "display diffs of formatting changes" },
    write: { type: "boolean", default: true, description: "write changes back to the files (off with -check)" },
    recursive: { type: "boolean", default: false, description: "also process files in subdirectories" },
  },
  async run({ rawArgs }) {
    process.exitCode = await fmtCommand({
      paths: positionals(rawArgs),
      check: boolFlag(rawArgs, "check", false),
      diff: boolFlag(rawArgs, "diff", false),
      write: boolFlag(rawArgs, "write", true),
      recursive: boolFlag(rawArgs, "recursive", false),
      out: (text) => process.stdout.write(text),
      readStdin: () => Bun.stdin.text(),
    });
  },
});

// Go-style boolean flags as Packer users write them (`-check`, `-check=true`, `-write=false`), read
// from the raw arguments because citty treats `--write=false` as a string.

export function boolFlag(rawArgs: string[], name: string, fallback: boolean): boolean {
  let v = fallback;
  for (const a of rawArgs) {
    if (a === "--") break;
    if (a === `--${name}`) v = true;
    else if (a === `--no-${name}`) v = false;
    else if (a.startsWith(`--${name}=`)) v = /^(1|t|true)$/i.test(a.slice(name.length + 3));
  }
  return v;
}

/** Arguments that are not flags (`-` counts as a path: stdin). */
export function positionals(rawArgs: string[]): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of rawArgs) {
    if (rest) out.push(a);
    else if (a === "--") rest = true;
    else if (a === "-" || !a.startsWith("-")) out.push(a);
  }
  return out;
}
