// Deleting a root filesystem folder must never follow a mount into the host (a bound /dev or /proc
// under it would be emptied). imgb's own mounts live in private namespaces, but a tool killed half
// way could leave one: unmount anything under the folder first, and refuse to delete if that fails.
import { readFile, rm } from "node:fs/promises";
import { spawnChild } from "../../process/child.ts";

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo, octal escapes decoded). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.replace(/\/+$/, "");
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}

export async function removeTreeSafely(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) await spawnChild(["umount", "-l", m]).done;
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`not deleting ${dir}: still mounted: ${left.join(", ")}`);
  await rm(dir, { recursive: true, force: true });
}
