// Path helpers: local "~" expansion (Packer expands it in key and known_hosts paths) and quoting
// remote paths for the POSIX shell that runs exec requests.
import { homedir } from "node:os";
import { join } from "node:path";

export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return path;
}

/** Single-quotes a word for sh: 'it'\''s'. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Remote paths are POSIX whatever the local OS is. */
export function remoteDirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : trimmed.slice(0, i);
}

export function remoteBasename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export function remoteJoin(dir: string, name: string): string {
  if (!name) return dir;
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** Quotes a remote path for sh, leaving a leading "~/" for the shell to expand (as in scp's own paths). */
export function remoteShellPath(path: string): string {
  if (path === "~") return "~";
  if (path.startsWith("~/")) return `~/${shellQuote(path.slice(2))}`;
  return shellQuote(path);
}

/** SFTP paths are relative to the login folder and do not expand "~": "~/x" becomes "x". */
export function sftpPath(path: string): string {
  if (path === "~" || path === "~/") return ".";
  if (path.startsWith("~/")) return path.slice(2);
  return path;
}
