// What a build (and a plugin, through host calls) may say to the user. The concrete UIs
// (Packer-style coloured text, -machine-readable CSV, -json-events) live beside this file.

export interface Ui {
  /** `==> NAME: msg` — a step's headline. */
  say(message: string): void;
  /** `    NAME: msg` — command output and details. */
  message(message: string): void;
  /** `==> NAME: msg` in red. */
  error(message: string): void;
  /** Ask on the terminal; rejects (UserError) when there is no TTY. */
  ask(query: string): Promise<string>;
  /** A transfer or long computation; total may be unknown. Returns a tracker to update and finish. */
  progress(label: string, total?: number): ProgressTracker;
  /** Machine-readable record (Packer's `TS,TARGET,TYPE,DATA...`); no-op for human output. */
  machine(type: string, ...data: string[]): void;
}

export interface ProgressTracker {
  update(done: number): void;
  finish(): void;
}
