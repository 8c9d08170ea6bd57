// StepOutputDir, shared by the builders that write an output folder (rootfs, qemu): an existing,
// non-empty folder is refused unless -force; a failed or cancelled build leaves no half-written output
// (Packer's rule).
import { mkdir, readdir, rm } from "node:fs/promises";
import { resolve } from "node:path";
import type { Step } from "./types.ts";

export interface OutputDirConfig {
  output_directory: string;
  packer_force: boolean;
}

export interface OutputDirRun {
  outputDir?: string;
  createdOutputDir?: boolean;
  succeeded?: boolean;
}

export function stepOutputDir(c: OutputDirConfig, r: OutputDirRun): Step {
  return {
    name: "StepOutputDir",
    async run(state) {
      // Relative to the working directory, as in Packer.
      const dir = resolve(c.output_directory);
      const existing = await readdir(dir).catch(() => undefined);
      if (existing && existing.length > 0) {
        if (!c.packer_force) throw new Error(`output directory ${c.output_directory} already exists; remove it or use -force`);
        state.ui.say(`Deleting previous output directory ${c.output_directory}`);
        await rm(dir, { recursive: true, force: true });
      }
      await mkdir(dir, { recursive: true });
      r.outputDir = dir;
      r.createdOutputDir = existing === undefined || existing.length > 0;
    },
    async cleanup() {
      if (!r.succeeded && r.createdOutputDir && r.outputDir) await rm(r.outputDir, { recursive: true, force: true });
    },
    abandon: () => (r.outputDir ? `the partial output stays in ${c.output_directory}` : undefined),
  };
}
