// The disk the VM runs on is a qcow2 overlay on the base image, in the build's work folder: the
// base is never written, and a failed build leaves nothing. The overlay is flattened into the output
// at the end (or kept as an overlay with use_backing_file).
import { rename, stat } from "node:fs/promises";
import * as v from "valibot";
import { run, runText } from "../../process/child.ts";

const ImageInfo = v.object({ format: v.string(), "virtual-size": v.number() });
export type ImageInfo = v.InferOutput<typeof ImageInfo>;

export async function imageInfo(path: string, signal?: AbortSignal): Promise<ImageInfo> {
  const text = await runText(["qemu-img", "info", "--output=json", path], signal ? { signal } : {});
  return v.parse(ImageInfo, JSON.parse(text));
}

export async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** An empty qcow2 disk of `bytes` (Packer's StepCreateDisk, with qemu_img_args.create). */
export async function createBlankDisk(path: string, bytes: number, extraArgs: string[], signal: AbortSignal) {
  await run(["qemu-img", "create", "-q", "-f", "qcow2", ...extraArgs, path, String(bytes)], { signal });
}

export async function createOverlay(base: string, baseFormat: string, overlay: string, bytes: number | undefined, signal: AbortSignal) {
  const argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", baseFormat, overlay];
  if (bytes !== undefined) argv.push(String(bytes));
  await run(argv, { signal });
}

/** Writes the final disk: a standalone copy in `format`, or (use_backing_file) the overlay itself. */
export async function finishDisk(
  overlay: string,
  out: string,
  opts: { format: "qcow2" | "raw"; keepOverlay: boolean; compress: boolean; convertArgs?: string[]; signal: AbortSignal },
): Promise<void> {
  if (opts.keepOverlay) {
    await rename(overlay, out);
    return;
  }
  const argv = ["qemu-img", "convert", "-q", "-O", opts.format];
  if (opts.compress && opts.format === "qcow2") argv.push("-c");
  argv.push(...(opts.convertArgs ?? []));
  argv.push(overlay, out);
  await run(argv, { signal: opts.signal });
  await stat(out);
}

/**
 * `qemu-img check` of a qcow2 (leaks, corrupt clusters); raw has no metadata to check. Throws with
 * qemu-img's findings when the image is not clean.
 */
export async function checkDisk(path: string, format: string, signal: AbortSignal): Promise<void> {
  if (format !== "qcow2") return;
  await run(["qemu-img", "check", "-q", "-f", "qcow2", path], { signal }).catch((err: unknown) => {
    throw new Error(`the written disk ${path} is not clean: ${err instanceof Error ? err.message : String(err)}`);
  });
}
