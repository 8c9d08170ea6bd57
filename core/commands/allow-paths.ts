// -allow-path DIR (build, validate): folders the user grants plugins for reading, beyond the template
// and working directories (docs/plugin-abi.md §4). Each must exist; it is resolved once (symlinks
// followed) so the grant is the folder the user saw, and it is shown and recorded before anything runs.
import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { UserError } from "../errors/diagnostic.ts";

export function resolveAllowedPaths(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v.trim() === "") throw new UserError("-allow-path needs a folder");
    let real: string;
    try {
      real = realpathSync(resolve(v));
    } catch {
      throw new UserError(`-allow-path ${v}: no such file or folder`);
    }
    if (!statSync(real).isDirectory() && !statSync(real).isFile()) throw new UserError(`-allow-path ${v}: not a file or folder`);
    if (!out.includes(real)) out.push(real);
  }
  return out;
}

/** The line that shows (and, in -machine-readable / -json-events, records) what was granted. */
export function allowedPathsLine(paths: string[]): string {
  return `Plugins may also read (-allow-path): ${paths.join(", ")}`;
}
