// Temporary files a plugin call asked for (capability temp_file). They are created directly in the
// system temp folder with Packer's naming (`/tmp/packer-shell123456789`), so UI lines look like
// Packer's, and are all removed when the call ends.
import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SAFE_AFFIX = /^[A-Za-z0-9._-]{0,64}$/;

export class TempFiles {
  private readonly paths = new Set<string>();

  has(path: string): boolean {
    return this.paths.has(path);
  }

  /** Creates a new file (exclusively) holding `data`; prefix/suffix must be plain names. */
  async create(prefix: string, suffix: string, data: Uint8Array, mode: number): Promise<string> {
    if (!SAFE_AFFIX.test(prefix) || !SAFE_AFFIX.test(suffix)) {
      throw new Error(`temp file prefix/suffix must be plain names: ${JSON.stringify(prefix)}, ${JSON.stringify(suffix)}`);
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const digits = String(Math.floor(Math.random() * 1e9)).padStart(9, "0");
      const path = join(tmpdir(), `${prefix}${digits}${suffix}`);
      // Written synchronously: no other build's process may be started while the file is open for
      // writing, or a forked child holds the write descriptor and running the script fails with
      // "Text file busy" (ETXTBSY), as parallel shell-local builds did.
      let fd: number;
      try {
        fd = openSync(path, "wx", mode & 0o777);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw e;
      }
      this.paths.add(path);
      try {
        for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
        fchmodSync(fd, mode & 0o777);
      } finally {
        closeSync(fd);
      }
      return path;
    }
    throw new Error("could not create a unique temp file");
  }

  async removeAll(): Promise<void> {
    const all = [...this.paths];
    this.paths.clear();
    await Promise.all(all.map((p) => rm(p, { force: true, recursive: true })));
  }
}
