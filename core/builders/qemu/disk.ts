// The disk the VM runs on is a qcow2 overlay on the base image, in the build's work folder: the
// base is never written, and a failed build leaves nothing. The overlay is flattened into the output
// at the end (or kept as an overlay with use_backing_file).
import { readFile, rename, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import * as v from "valibot";
import { run, runText } from "../../process/child.ts";

const ImageInfo = v.object({ format: v.string(), "virtual-size": v.number() });
export type ImageInfo = v.InferOutput<typeof ImageInfo>;

export async function imageInfo(path: string, signal?: AbortSignal): Promise<ImageInfo> {
  const text = await runText(["qemu-img", "info", "--output=json", path], signal ? { signal } : {});
  return v.parse(ImageInfo, JSON.parse(text));
}

/** iso_url as a local path ("file://" stripped, relative to the working directory as in Packer). */
export function localPath(url: string): string {
  return resolve(url.startsWith("file://") ? decodeURIComponent(url.slice("file://".length)) : url);
}

export async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Packer's iso_checksum: "none", "sha256:HEX", bare HEX, or "file:PATH" (a SHA256SUMS-style file). */
export async function verifyChecksum(path: string, checksum: string): Promise<void> {
  if (checksum === "none") return;
  let expected = checksum.replace(/^sha256:/i, "").toLowerCase();
  if (checksum.startsWith("file:")) {
    const sums = await readFile(localPath(checksum.slice("file:".length)), "utf8");
    const line = sums.split("\n").find((l) => l.trim().split(/\s+\*?/).at(-1) === basename(path));
    if (!line) throw new Error(`${checksum.slice(5)} has no checksum for ${basename(path)}`);
    expected = line.trim().split(/\s+/)[0]!.toLowerCase();
  }
  const actual = await sha256Of(path);
  if (actual !== expected) throw new Error(`checksum mismatch for ${path}: expected sha256 ${expected}, got ${actual}`);
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
  opts: { format: "qcow2" | "raw"; keepOverlay: boolean; compress: boolean; signal: AbortSignal },
): Promise<void> {
  if (opts.keepOverlay) {
    await rename(overlay, out);
    return;
  }
  const argv = ["qemu-img", "convert", "-q", "-O", opts.format];
  if (opts.compress && opts.format === "qcow2") argv.push("-c");
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
