// Path grants for host functions: a path is allowed when it resolves (symlinks followed) inside one of
// the granted roots. Relative paths are resolved against the working directory, as Packer does.
import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, resolve, sep } from "node:path";
import type { HostCallContext } from "./context.ts";

export interface Root {
  /** Absolute folder, or an exact file when `exact`. */
  path: string;
  exact?: boolean;
  /** Words for the refusal message: "the template directory". */
  label: string;
}

export function absolute(path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(process.cwd(), path);
}

/** Resolves symlinks of the path, or of its nearest existing parent when it does not exist yet. */
async function real(path: string): Promise<string> {
  let p = path;
  const rest: string[] = [];
  for (;;) {
    try {
      const r = await realpath(p);
      return rest.length ? resolve(r, ...rest.reverse()) : r;
    } catch {
      const parent = dirname(p);
      if (parent === p) return path;
      rest.push(p.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      p = parent;
    }
  }
}

function inside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Returns the absolute path when allowed, or the reason it is not (naming the roots). */
export async function checkPath(path: string, roots: Root[]): Promise<{ ok: true; path: string } | { ok: false; reason: string }> {
  const abs = absolute(path);
  const resolved = await real(abs);
  for (const root of roots) {
    const rootReal = await real(absolute(root.path));
    if (root.exact ? resolved === rootReal : inside(resolved, rootReal)) return { ok: true, path: abs };
  }
  if (roots.length === 0) return { ok: false, reason: "no local paths are granted here" };
  const labels = [...new Set(roots.map((r) => r.label))];
  return { ok: false, reason: `outside ${labels.join(" and ")}` };
}

/** A post-processor's input artifact files, each granted exactly. */
export function artifactRoots(ctx: Pick<HostCallContext, "artifactFiles">): Root[] {
  return (ctx.artifactFiles ?? []).map((f) => ({ path: f, exact: true, label: "the input artifact's files" }));
}

/** The folder a post-processor writes its outputs to. */
export function outputRoots(ctx: Pick<HostCallContext, "outputDir">): Root[] {
  return ctx.outputDir ? [{ path: ctx.outputDir, label: "the output directory" }] : [];
}
