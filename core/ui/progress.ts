// Progress of long transfers, three ways, chosen by where the output goes:
//  - a terminal: one in-place bar per transfer (cli-progress's MultiBar), each prefixed with its
//    build's name in its colour; build lines printed meanwhile go above the bars (MultiBar.log),
//    so parallel builds' bars and lines never garble each other;
//  - a log or CI (no TTY): a line at each quarter, and one when done;
//  - -json-events: "progress" events (at most a few a second) and a final one.
import type { MultiBar } from "cli-progress";
import type { ProgressTracker } from "./types.ts";
import { ASSET, lazyModule } from "../embedded/compressed-assets.ts";

type CliProgress = typeof import("cli-progress");
const cliProgress = lazyModule<CliProgress>(ASSET.cliProgress, "cli-progress");

export interface ProgressSink {
  message(text: string): void;
}

/** Quarter lines: a build log is read later, so a line per 25% says enough. */
export class LineProgress implements ProgressTracker {
  private lastQuarter = -1;
  private readonly started = performance.now();
  constructor(
    private readonly ui: ProgressSink,
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
    this.ui.message(doneLine(this.label, this.total, this.started));
  }
}

export function doneLine(label: string, total: number | undefined, started: number): string {
  const secs = (performance.now() - started) / 1000;
  return `${label}: done, ${total ? `${mib(total)} ` : ""}in ${secs.toFixed(1)} s`;
}

export function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** -json-events: a progress event when a percent or a second has passed, and one at the end. */
export class EventProgress implements ProgressTracker {
  private lastPercent = -1;
  private lastAt = 0;
  private done = 0;
  private readonly started = performance.now();
  constructor(
    private readonly emit: (event: Record<string, unknown>) => void,
    private readonly build: string,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {}
  update(done: number): void {
    this.done = done;
    const percent = this.total ? Math.floor((done / this.total) * 100) : -1;
    const now = performance.now();
    if (percent === this.lastPercent && now - this.lastAt < 1000) return;
    if (now - this.lastAt < 250 && percent < 100) return;
    this.lastPercent = percent;
    this.lastAt = now;
    this.emit({ type: "progress", build: this.build, label: this.label, done, total: this.total ?? null });
  }
  finish(): void {
    const ms = Math.round(performance.now() - this.started);
    this.emit({ type: "progress", build: this.build, label: this.label, done: this.total ?? this.done, total: this.total ?? null, finished: true, ms });
  }
}

/**
 * The terminal's bars: one MultiBar while any transfer runs; every other line written meanwhile
 * goes through `write`, which puts it above the bars.
 */
export class TerminalBars {
  private multibar: MultiBar | undefined;
  private active = 0;
  /** cli-progress, loaded in the background from the start (transfers begin seconds later). */
  private lib: CliProgress | undefined;
  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly rawWrite: (s: string) => void,
  ) {
    cliProgress.load().then(
      (m) => (this.lib = m),
      () => {}, // no bars then: transfers report in lines
    );
  }

  write(text: string): void {
    if (this.multibar) this.multibar.log(text.endsWith("\n") ? text : `${text}\n`);
    else this.rawWrite(text);
  }

  /** A bar, or undefined while cli-progress is not loaded yet (the caller reports in lines then). */
  bar(prefix: string, label: string, total: number | undefined, finishedLine: (line: string) => void): ProgressTracker | undefined {
    if (!this.lib) return undefined;
    this.multibar ??= new this.lib.MultiBar({
      stream: this.stream as NodeJS.WritableStream,
      format: "{prefix} {label} [{bar}] {percentage}% | {doneMiB}/{totalMiB} MiB | {speed} MiB/s | ETA {eta_formatted}",
      barCompleteChar: "\u2588",
      barIncompleteChar: "\u2591",
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      autopadding: true,
      fps: 8,
    });
    this.active++;
    const started = performance.now();
    const payload = (done: number) => ({
      prefix,
      label,
      doneMiB: (done / 1048576).toFixed(1),
      totalMiB: total ? (total / 1048576).toFixed(1) : "?",
      speed: (done / 1048576 / Math.max(0.001, (performance.now() - started) / 1000)).toFixed(1),
    });
    const bar = this.multibar.create(total ?? 0, 0, payload(0), total ? {} : { format: "{prefix} {label} {doneMiB} MiB | {speed} MiB/s" });
    let finished = false;
    return {
      update: (done) => bar.update(done, payload(done)),
      finish: () => {
        if (finished) return;
        finished = true;
        this.multibar?.remove(bar);
        this.active--;
        if (this.active === 0) {
          this.multibar?.stop();
          this.multibar = undefined;
        }
        finishedLine(doneLine(label, total, started));
      },
    };
  }
}
