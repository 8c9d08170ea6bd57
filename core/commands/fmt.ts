// `imgb fmt`: rewrites HCL2 templates and var files (`*.pkr.hcl`, `*.pkrvars.hcl`) in canonical
// style. Prints the name of every file that changed (or would change), `-check` exits 3 when any
// would, `-diff` shows a unified diff, `-` formats stdin to stdout. JSON files are never touched.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DiagnosticsError, UserError, type Diagnostic } from "../errors/diagnostic.ts";
import { formatHclSource } from "../template/hcl2/hcl.ts";
import { unifiedDiff } from "./text-diff.ts";

export interface FmtOptions {
  paths: string[];
  check: boolean;
  diff: boolean;
  write: boolean;
  recursive: boolean;
  /** Where names and diffs go (stdout). */
  out: (text: string) => void;
  /** Reads all of stdin, for the `-` path. */
  readStdin: () => Promise<string>;
}

/** Packer's `fmt -check` exit code when some file is not formatted. */
export const EXIT_NEEDS_FORMATTING = 3;

const FORMATTABLE = [".pkr.hcl", ".pkrvars.hcl"];

export async function fmtCommand(opts: FmtOptions): Promise<number> {
  const diags: Diagnostic[] = [];
  let changed = 0;
  const paths = opts.paths.length > 0 ? opts.paths : ["."];
  for (const path of paths) {
    if (path === "-") {
      const src = await opts.readStdin();
      const formatted = format(src, "<stdin>", diags);
      if (formatted === undefined) continue;
      if (formatted !== src) changed++;
      if (opts.check) continue;
      if (opts.diff) opts.out(unifiedDiff(src, formatted, "old/<stdin>", "new/<stdin>"));
      else opts.out(formatted);
      continue;
    }
    for (const file of filesToFormat(path, opts.recursive)) {
      const src = readFileSync(file, "utf8");
      const formatted = format(src, file, diags);
      if (formatted === undefined || formatted === src) continue;
      changed++;
      opts.out(`${file}\n`);
      if (opts.diff) opts.out(unifiedDiff(src, formatted, `old/${file}`, `new/${file}`));
      if (opts.write && !opts.check) writeFileSync(file, formatted);
    }
  }
  if (diags.length > 0) throw new DiagnosticsError(diags);
  return opts.check && changed > 0 ? EXIT_NEEDS_FORMATTING : 0;
}

function format(src: string, filename: string, diags: Diagnostic[]): string | undefined {
  const r = formatHclSource(src, filename);
  if (r.diagnostics.some((d) => d.severity === "error")) {
    diags.push(...r.diagnostics);
    return undefined;
  }
  return r.text;
}

/** A file is formatted when named explicitly with a known suffix; folders give their HCL2 files. */
function filesToFormat(path: string, recursive: boolean): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UserError(`No file or directory at ${path}`);
  }
  if (!isDir) {
    if (!FORMATTABLE.some((s) => path.endsWith(s))) throw new UserError(`Only .pkr.hcl and .pkrvars.hcl files can be processed with imgb fmt: ${path}`);
    return [path];
  }
  const out: string[] = [];
  for (const e of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(path, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...filesToFormat(full, true));
    } else if (FORMATTABLE.some((s) => e.name.endsWith(s))) out.push(full);
  }
  return out;
}
