// Packer's StepCreateCD and StepCreateFloppy (packer-plugin-sdk commonsteps): files, globs, folders
// and templated texts gathered in a staging folder, then written as an ISO 9660 image with Joliet
// and Rock Ridge (xorriso, as Packer shells out to xorriso/mkisofs) or as a 1.44 MB FAT12 floppy
// (mkfs.vfat and mtools' mcopy, no mount, no root).
import { cp, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Glob } from "bun";
import { defineFields, type ConfigOf } from "../../config/schema.ts";
import { run } from "../../process/child.ts";

export const cdConfigFields = defineFields([
  { name: "cd_files", type: "list(string)", default: [], description: "Files, globs and folders put on an extra CD." },
  { name: "cd_content", type: "map(string)", default: {}, description: "Texts (path -> content) put on the extra CD." },
  { name: "cd_label", type: "string", default: "", description: "The extra CD's volume label (cidata for cloud-init)." },
]);
export type CdConfig = ConfigOf<typeof cdConfigFields>;
export const floppyConfigFields = defineFields([
  { name: "floppy_files", type: "list(string)", default: [] },
  { name: "floppy_dirs", type: "list(string)", default: [] },
  { name: "floppy_content", type: "map(string)", default: {} },
  { name: "floppy_label", type: "string", default: "packer" },
]);
export type FloppyConfig = ConfigOf<typeof floppyConfigFields>;

export const cdWanted = (c: CdConfig) => c.cd_files.length > 0 || Object.keys(c.cd_content).length > 0;
export const floppyWanted = (c: FloppyConfig) =>
  c.floppy_files.length > 0 || c.floppy_dirs.length > 0 || Object.keys(c.floppy_content).length > 0;

export function checkFloppyConfig(c: FloppyConfig): string[] {
  return c.floppy_label.length > 11 ? [`floppy_label "${c.floppy_label}" is longer than 11 characters`] : [];
}

/** Paths a list names: literal ones as given (must exist at build), globs expanded in their folder. */
async function expand(patterns: string[], baseDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (!/[*?[{]/.test(p)) {
      out.push(resolve(baseDir, p));
      continue;
    }
    const matches = [...new Glob(p).scanSync({ cwd: baseDir, absolute: true, onlyFiles: false, dot: true })];
    if (matches.length === 0) throw new Error(`${p} matches no file`);
    out.push(...matches.sort());
  }
  return out;
}

/**
 * Copies into `stage`: each file to the root; a folder with its own name, or only its content when
 * written with a trailing slash (Packer's cd_files rule); then `content` at its paths.
 */
async function stageFiles(stage: string, files: string[], content: Record<string, string>, baseDir: string): Promise<void> {
  await mkdir(stage, { recursive: true });
  for (const [i, path] of (await expand(files, baseDir)).entries()) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new Error(`${files[i] ?? path}: no such file or folder`);
    if (info.isDirectory()) {
      const into = (files[i] ?? "").endsWith("/") ? stage : join(stage, basename(path));
      await cp(path, into, { recursive: true, dereference: true });
    } else {
      await cp(path, join(stage, basename(path)), { dereference: true });
    }
  }
  for (const [rel, text] of Object.entries(content)) {
    const dest = join(stage, rel.replace(/^\/+/, ""));
    if (!dest.startsWith(stage + "/")) throw new Error(`content path ${rel} leaves the image`);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, text);
  }
}

export async function createCd(c: CdConfig, o: { workDir: string; baseDir: string; signal: AbortSignal }): Promise<string> {
  const stage = join(o.workDir, "cd-stage");
  await stageFiles(stage, c.cd_files, c.cd_content, o.baseDir);
  const iso = join(o.workDir, "cd.iso");
  const argv = ["xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-J", "-joliet-long", "-R"];
  if (c.cd_label) argv.push("-V", c.cd_label);
  argv.push(stage);
  await run(argv, { signal: o.signal });
  return iso;
}

export async function createFloppy(c: FloppyConfig, o: { workDir: string; baseDir: string; signal: AbortSignal }): Promise<string> {
  const stage = join(o.workDir, "floppy-stage");
  // floppy_files go to the root; floppy_dirs keep their folder.
  await stageFiles(stage, c.floppy_files, c.floppy_content, o.baseDir);
  for (const dir of await expand(c.floppy_dirs, o.baseDir)) {
    await cp(dir, join(stage, basename(dir)), { recursive: true, dereference: true });
  }
  const img = join(o.workDir, "floppy.img");
  await run(["mkfs.vfat", "-C", "-n", c.floppy_label.toUpperCase(), img, "1440"], { signal: o.signal });
  const entries = await readdir(stage);
  if (entries.length > 0) {
    await run(["mcopy", "-s", "-Q", "-i", img, ...entries.map((e) => join(stage, e)), "::/"], { signal: o.signal });
  }
  return img;
}
