// Directory transfers follow Packer's file provisioner (rsync) rules: "src/" copies the contents of
// src into dest, "src" copies the folder itself to dest/src. Exclude patterns are globs matched
// against the path relative to the folder being copied; a pattern without "/" also matches a
// name at any depth; an excluded directory is skipped with everything under it.
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";

export interface TreeEntry {
  /** Relative to the copied root, "/"-separated; "" is the root itself. */
  rel: string;
  kind: "dir" | "file";
  mode: number;
  size: number;
  mtimeMs: number;
  /** Local path (uploads) or remote path (downloads). */
  path: string;
}

export class ExcludeMatcher {
  private readonly globs: Array<{ glob: InstanceType<typeof Bun.Glob>; anyDepth: boolean }>;
  constructor(patterns: string[]) {
    this.globs = patterns
      .filter((p) => p.trim() !== "")
      .map((p) => {
        const clean = p.replace(/^\.\//, "").replace(/\/+$/, "");
        return { glob: new Bun.Glob(clean), anyDepth: !clean.includes("/") };
      });
  }
  excluded(rel: string): boolean {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    return this.globs.some((g) => g.glob.match(rel) || (g.anyDepth && g.glob.match(name)));
  }
}

/** "src/" → copy contents (no extra level); "src" → copy as dest/<basename>. */
export function copiesContents(src: string): boolean {
  return src.endsWith("/") || src.endsWith("/.");
}

export function topLevelName(src: string): string {
  return basename(src.replace(/\/+$/, ""));
}

/** Walks a local folder, parents before children; symlinks are followed (their targets are copied). */
export async function walkLocal(root: string, exclude: ExcludeMatcher): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const rootStat = await stat(root);
  if (!rootStat.isDirectory()) throw Object.assign(new Error(`${root} is not a directory`), { code: "ENOTDIR" });
  const visit = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (exclude.excluded(childRel)) continue;
      const path = join(dir, name);
      let st = await lstat(path);
      if (st.isSymbolicLink()) {
        try {
          st = await stat(path);
        } catch {
          throw Object.assign(new Error(`${path} is a broken symbolic link`), { code: "ENOENT" });
        }
      }
      if (st.isDirectory()) {
        out.push({ rel: childRel, kind: "dir", mode: st.mode & 0o7777, size: 0, mtimeMs: st.mtimeMs, path });
        await visit(path, childRel);
      } else if (st.isFile()) {
        out.push({ rel: childRel, kind: "file", mode: st.mode & 0o7777, size: st.size, mtimeMs: st.mtimeMs, path });
      }
      // sockets, fifos and devices are not copied, as rsync without -D
    }
  };
  await visit(root, "");
  return out;
}
