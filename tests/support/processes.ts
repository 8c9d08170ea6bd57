// Checks that tests use to prove nothing is left running.
import { readFileSync } from "node:fs";

/** True while a process with this pid exists and is not a zombie (PID 1 here does not reap promptly). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
