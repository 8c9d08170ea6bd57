// Read-modify-write of a lock file or installed list under an exclusive lock, so two `imgb plugins
// install` or `imgb init` runs at once never lose each other's entries. The lock is a sibling file
// `<path>.lock` created with O_EXCL and holding the owner's pid; a lock whose owner is gone (killed)
// is taken over. Writes themselves are atomic (fsutil.ts writeFileAtomic).
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { RegistryError } from "./errors.ts";

const WAIT_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function withLockFile<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = `${path}.lock`;
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      const fh = await open(lockPath, "wx", 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new RegistryError("lock", `cannot lock ${path}: ${(e as Error).message}`);
      const owner = Number((await readFile(lockPath, "utf8").catch(() => "")).trim());
      if (Number.isSafeInteger(owner) && owner > 0 && !alive(owner)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new RegistryError("lock", `${path} is locked by another imgb (pid ${owner || "?"}) for over ${WAIT_MS / 1000} s; if none is running, remove ${lockPath}`);
      await Bun.sleep(delay);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}
