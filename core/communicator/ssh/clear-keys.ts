// ssh_clear_authorized_keys: on cleanup, remove the builder's temporary key from the machine's
// ~/.ssh/authorized_keys (and root's, through sudo, when logged in as someone else), as Packer does.
// The line is found by the key's base64 body, which is unique, rather than by its comment.
import type { Ui } from "../../ui/types.ts";
import type { Communicator } from "../types.ts";
import { shellQuote } from "./paths.ts";

export function clearKeyCommand(publicKeyLine: string): string {
  const body = publicKeyLine.trim().split(/\s+/)[1] ?? "";
  if (!/^[A-Za-z0-9+/=]+$/.test(body)) throw new Error("not an authorized_keys line");
  // `cat >` keeps the file's owner and mode; grep -v exits 1 when no line is left, which is fine.
  const strip = (file: string): string =>
    `f=${file}; if [ -f "$f" ]; then t=$(mktemp) && { grep -vF ${shellQuote(body)} "$f" > "$t"; cat "$t" > "$f"; rm -f "$t"; }; fi`;
  const forRoot = `sudo -n sh -c ${shellQuote(strip("/root/.ssh/authorized_keys"))} 2>/dev/null`;
  return `${strip('"$HOME/.ssh/authorized_keys"')}; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then ${forRoot}; fi; true`;
}

export async function clearAuthorizedKeys(comm: Communicator, publicKeyLine: string, ui: Ui, signal: AbortSignal): Promise<void> {
  ui.say("Cleaning up authorized_keys...");
  let stderr = "";
  const r = await comm.start(
    { command: clearKeyCommand(publicKeyLine), onStderr: (c) => (stderr += new TextDecoder().decode(c)) },
    signal,
  );
  if (r.kind !== "exited" || r.exitStatus !== 0) {
    ui.error(`Could not clean up authorized_keys: ${r.kind === "exited" ? `exit status ${r.exitStatus}` : r.reason} ${stderr.trim()}`);
  }
}
