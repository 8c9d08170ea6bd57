// The container communicator: commands run through `podman exec` (or a docker-compatible CLI),
// files move as `cat`/`tar` streams over exec, so modes are kept and no shared folder is needed.
import type { Communicator } from "../types.ts";
import { execCommunicator } from "./exec-communicator.ts";

export { execCommunicator, type ExecTransport } from "./exec-communicator.ts";

export interface ContainerCommunicatorOptions {
  /** The container CLI: "podman" (default) or a docker-compatible one. */
  engine?: string;
  /** Global CLI arguments put before the verb (e.g. `--runtime runc`). */
  engineArgs?: string[];
  containerId: string;
  /** `exec -u`: user (and group) commands run as; empty = the image's user. */
  execUser?: string;
}

/** podman's own failures (no such container, runtime error) exit 125; everything else is the command's. */
const ENGINE_FAILURE_STATUS = 125;

export function containerCommunicator(opts: ContainerCommunicatorOptions): Communicator {
  const engine = opts.engine ?? "podman";
  const userArgs = opts.execUser ? ["-u", opts.execUser] : [];
  return execCommunicator({
    type: "docker",
    target: `${engine} ${opts.containerId.slice(0, 12)}`,
    shellArgv: (script) => [
      engine,
      ...(opts.engineArgs ?? []),
      "exec",
      "-i",
      ...userArgs,
      opts.containerId,
      "/bin/sh",
      "-c",
      script,
    ],
    // `podman exec` killed locally leaves its command running in the container: mark it to find it.
    markedShellArgv: (script, marker) => [engine, ...(opts.engineArgs ?? []), "exec", "-i", ...userArgs, opts.containerId, "/bin/sh", "-c", script, marker],
    transportFailure: (r) =>
      r.exitCode === ENGINE_FAILURE_STATUS ? `${engine} exec failed: ${r.stderrTail.trim()}` : undefined,
  });
}
