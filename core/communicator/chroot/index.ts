// The chroot communicator: every command runs in fresh PID, mount, UTS and IPC namespaces rooted at
// the build's root filesystem. /proc, a private /dev (device nodes bound from the host, a new devpts
// instance) are mounted inside that mount namespace only, so they vanish with its last process:
// nothing is ever mounted on the host, and a crash or SIGKILL cannot leave a mount behind.
// `--kill-child` makes the kernel kill the whole PID namespace when unshare dies, so stopping the one
// child we started (with SIGKILL: unshare's parent ignores SIGTERM while it waits) ends everything.
import type { Communicator } from "../types.ts";
import { execCommunicator } from "../container/exec-communicator.ts";

export interface ChrootCommunicatorOptions {
  /** The root filesystem (absolute path). */
  root: string;
  /** Environment inside; defaults to a Debian root's PATH, HOME and LANG. */
  env?: Record<string, string>;
}

const DEVICE_NODES = ["null", "zero", "full", "random", "urandom", "tty"];

/** Runs as $0 = root, $1 = script, under the host's /bin/sh inside the new namespaces. */
const ENTER_ROOT = [
  "set -e",
  'R="$0"',
  'mkdir -p "$R/proc" "$R/dev"',
  'mount -t proc proc "$R/proc"',
  'mount -t tmpfs -o mode=755,nosuid dev "$R/dev"',
  `for n in ${DEVICE_NODES.join(" ")}; do : > "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done`,
  'mkdir "$R/dev/pts" "$R/dev/shm"',
  'mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"',
  'mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm"',
  'ln -s pts/ptmx "$R/dev/ptmx"',
  'ln -s /proc/self/fd "$R/dev/fd"',
  'ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"',
  'exec chroot "$R" /bin/sh -c "$1"',
].join("\n");

export const DEFAULT_CHROOT_ENV: Record<string, string> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
  DEBIAN_FRONTEND: "noninteractive",
};

/** The argv that runs `script` inside `root`; exported for builders that run hooks the same way. */
export function chrootShellArgv(root: string, script: string): string[] {
  return [
    "unshare",
    "--fork",
    "--pid",
    "--mount",
    "--uts",
    "--ipc",
    "--kill-child=SIGKILL",
    "--propagation=private",
    "--",
    "/bin/sh",
    "-c",
    ENTER_ROOT,
    root,
    script,
  ];
}

export function chrootCommunicator(opts: ChrootCommunicatorOptions): Communicator {
  return execCommunicator({
    type: "chroot",
    target: `chroot ${opts.root}`,
    shellArgv: (script) => chrootShellArgv(opts.root, script),
    childOptions: { env: opts.env ?? DEFAULT_CHROOT_ENV, stopSignal: "SIGKILL" },
  });
}
