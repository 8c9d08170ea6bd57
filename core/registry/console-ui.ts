// The Ui for registry and plugin verbs (no build is running, so no build name or colour):
// `==> ` headlines and indented details on stdout, errors on stderr, questions on the terminal.
// What they print comes partly from registries and plugins (descriptions, publishers, errors), so it
// goes through the one terminal sanitizer like every build line.
import type { ProgressTracker, Ui } from "../ui/types.ts";
import { askLine } from "../ui/terminal.ts";
import { noForgedHeadlines, terminalSafe } from "../ui/sanitize.ts";

const safe = (text: string): string => noForgedHeadlines(terminalSafe(text));

export function consoleUi(out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Ui {
  return {
    say: (m) => out(`==> ${safe(m)}\n`),
    message: (m) => out(`    ${safe(m)}\n`),
    error: (m) => err(`==> ${safe(m)}\n`),
    ask: (q) => askLine(`==> ${safe(q)} `, out),
    progress: (): ProgressTracker => ({ update() {}, finish() {} }),
    machine: () => {},
  };
}
