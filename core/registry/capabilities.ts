// Capability names a plugin may declare (docs/plugin-abi.md §4). The registry refuses names it does
// not know: a client cannot ask a user to grant something it cannot explain.
// One list for the whole program: the plugin host's, which enforces them.
import { KNOWN_CAPABILITIES, type Capability } from "../plugin/host/table.ts";
export { KNOWN_CAPABILITIES, type Capability };

const EXPLAIN: Record<Capability, string> = {
  communicator: "run commands and copy files on the machine being built",
  local_exec: "run commands on this computer",
  local_file_read: "read files in the template directory and the working directory",
  local_file_write: "write files in its temporary directory",
  temp_file: "create temporary files",
  artifact_read: "read the input artifact's files",
  artifact_write: "write files in the build's output folder",
  ui_ask: "ask you questions on the terminal",
  container_image: "tag, save or push the built container image, or import the built filesystem tar as one, with the engine that built it",
  comm_proxy: "open an SSH server on 127.0.0.1 that reaches the machine being built, for a program it runs on this computer (ansible)",
};

export function explainCapability(c: string): string {
  return (EXPLAIN as Record<string, string | undefined>)[c] ?? "unknown capability";
}

export function sortedUnique<T extends string>(caps: readonly T[]): T[] {
  return [...new Set(caps)].sort();
}

/** Capabilities in `wanted` that `granted` does not cover. */
export function capabilityEscalation<T extends string>(granted: readonly string[], wanted: readonly T[]): T[] {
  const g = new Set(granted);
  return sortedUnique(wanted.filter((c) => !g.has(c)));
}
