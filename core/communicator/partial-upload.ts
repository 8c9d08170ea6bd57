// Uploads land under a temporary name beside the destination and are renamed into place once
// complete, so an interrupted transfer (Ctrl-C, a dropped connection, a full disk) never leaves a
// truncated file at the destination; the temporary is removed on failure. Every communicator that
// writes files (SSH's sftp and scp, container, chroot) names it here.
import { randomBytes } from "node:crypto";

/** Longest file name most file systems take, in bytes. */
const NAME_MAX = 255;

/** `.NAME.imgb-part-XXXXXXXX`: hidden, recognisably imgb's, unique per upload, within NAME_MAX bytes. */
export function partialName(base: string): string {
  const suffix = `.imgb-part-${randomBytes(4).toString("hex")}`;
  let name = base;
  while (Buffer.byteLength(`.${name}${suffix}`) > NAME_MAX) name = Array.from(name).slice(0, -1).join("");
  return `.${name}${suffix}`;
}

/** `dir/name` for a remote path's folder as remoteDirname returns it ("." and "/" included). */
export function besideName(dir: string, name: string): string {
  if (dir === "/") return `/${name}`;
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

/**
 * The shell words that move a complete upload `temp` over `dest` (both already quoted); a folder at
 * `dest` is refused rather than receiving the temporary inside it.
 */
export function moveIntoPlaceScript(temp: string, dest: string): string {
  return `if [ -d ${dest} ]; then echo ${dest}": is a directory" >&2; exit 1; fi; mv -f -- ${temp} ${dest}`;
}

/**
 * Runs `write(tempPath)`, then `commit(tempPath)`; on any failure runs `discard(tempPath)` (its own
 * errors ignored: the original failure is what the user needs) and rethrows.
 */
export async function viaPartial(
  tempPath: string,
  write: (temp: string) => Promise<void>,
  commit: (temp: string) => Promise<void>,
  discard: (temp: string) => Promise<void>,
): Promise<void> {
  try {
    await write(tempPath);
    await commit(tempPath);
  } catch (err) {
    await discard(tempPath).catch(() => {});
    throw err;
  }
}
