// The Ui a build (and every plugin running in it) talks to: it knows its build's name and colour.
import type { ProgressTracker, Ui } from "./types.ts";
import type { Output } from "./output.ts";
import { askLine } from "./terminal.ts";
import { terminalSafe } from "./sanitize.ts";

export class BuildUi implements Ui {
  constructor(
    private readonly out: Output,
    readonly buildName: string,
    private readonly colorIndex: number,
    private readonly write: (s: string) => void,
  ) {}

  private get who() {
    return { name: this.buildName, colorIndex: this.colorIndex };
  }

  say(message: string): void {
    this.out.line("say", this.who, message);
  }
  message(message: string): void {
    this.out.line("message", this.who, message);
  }
  error(message: string): void {
    this.out.line("error", this.who, message);
  }
  ask(query: string): Promise<string> {
    // Every line of the question carries the prefix, as Output's lines do: none passes for imgb's own.
    const prefix = `==> ${this.buildName}: `;
    return askLine(prefix + terminalSafe(query).split("\n").join(`\n${prefix}`), this.write);
  }
  machine(type: string, ...data: string[]): void {
    this.out.machine(this.buildName, type, data);
  }
  progress(label: string, total?: number): ProgressTracker {
    return this.out.progress(this.who, label, total, this);
  }
}

