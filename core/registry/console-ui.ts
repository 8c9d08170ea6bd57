// The Ui for registry and plugin verbs (no build is running, so no build name or colour):
// `==> ` headlines and indented details on stdout, errors on stderr, questions on the terminal.
import type { ProgressTracker, Ui } from "../ui/types.ts";
import { askLine } from "../ui/terminal.ts";

export function consoleUi(out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Ui {
  return {
    say: (m) => out(`==> ${m}\n`),
    message: (m) => out(`    ${m}\n`),
    error: (m) => err(`==> ${m}\n`),
    ask: (q) => askLine(`==> ${q} `, out),
    progress: (): ProgressTracker => ({ update() {}, finish() {} }),
    machine: () => {},
  };
}
