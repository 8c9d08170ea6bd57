// The container_image capability's work on the host: tag the input artifact's image, or save it to
// a tar, through the engine that built it (podman, or a docker CLI). The plugin never names the
// image or the engine, only the new name or the file.
import { rm } from "node:fs/promises";
import { run, runText } from "../../process/child.ts";

export interface EngineImage {
  ref: string;
  engine: string[];
}

export async function tagImage(image: EngineImage, ref: string, signal: AbortSignal): Promise<void> {
  await run([...image.engine, "tag", image.ref, ref], { signal });
}

/** `save -o PATH`; a failed or cancelled save leaves no partial file (as Packer's docker-save). */
export async function saveImage(image: EngineImage, path: string, signal: AbortSignal): Promise<void> {
  try {
    await run([...image.engine, "save", "-o", path, image.ref], { signal });
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
}

/** `import` of a filesystem tar as image `ref`, with Dockerfile-style changes; the engine's new image id. */
export async function importImage(engine: string[], path: string, ref: string, changes: string[], signal: AbortSignal): Promise<string> {
  const text = await runText([...engine, "import", ...changes.map((c) => `--change=${c}`), path, ref], { signal });
  return text.split("\n").at(-1)!.trim();
}

/** Removes one name of an image (or the image, when it was its last name). */
export async function removeImage(image: EngineImage): Promise<void> {
  await run([...image.engine, "rmi", image.ref]);
}
