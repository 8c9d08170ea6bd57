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
    return askLine(`==> ${this.buildName}: ${terminalSafe(query)}`, this.write);
  }
  machine(type: string, ...data: string[]): void {
    this.out.machine(this.buildName, type, data);
  }
  progress(label: string, total?: number): ProgressTracker {
    return new LineProgress(this, label, total);
  }
}

/**
 * Progress as lines at each quarter: a build log is read later, in CI or a file, and parallel builds
 * share the terminal, so an in-place bar would garble both.
 */
class LineProgress implements ProgressTracker {
  private lastQuarter = -1;
  private readonly started = performance.now();
  constructor(
    private readonly ui: Ui,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {}
  update(done: number): void {
    if (!this.total) return;
    const quarter = Math.floor((done / this.total) * 4);
    if (quarter > this.lastQuarter && quarter < 4) {
      this.lastQuarter = quarter;
      if (quarter > 0) this.ui.message(`${this.label}: ${quarter * 25}% (${mib(done)} of ${mib(this.total)})`);
    }
  }
  finish(): void {
    const secs = (performance.now() - this.started) / 1000;
    const size = this.total ? `${mib(this.total)} ` : "";
    this.ui.message(`${this.label}: done, ${size}in ${secs.toFixed(1)} s`);
  }
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
