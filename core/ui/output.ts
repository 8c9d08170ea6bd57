// The one place that decides how a line looks: Packer's coloured text, -machine-readable CSV, or
// -json-events. Builds and plugins only say what happened; they never format.

import { EventProgress, LineProgress, TerminalBars, type ProgressSink } from "./progress.ts";
import { noForgedHeadlines, terminalSafe } from "./sanitize.ts";
import { maskSecrets, SecretMasker } from "./secrets.ts";
import type { ProgressTracker } from "./types.ts";

export type LineKind = "say" | "message" | "error";
export type OutputMode = "human" | "machine" | "json";

export interface OutputOptions {
  mode: OutputMode;
  color: boolean;
  timestamp: boolean;
  /** Values replaced by `<sensitive>` wherever they appear. */
  sensitive: string[];
  write: (text: string) => void;
  now?: () => Date;
  /** Human output on a terminal: in-place progress bars (core/ui/progress.ts). */
  terminal?: NodeJS.WritableStream & { isTTY?: boolean };
}

// Packer's rotation of build colours: green, cyan, magenta, yellow, blue.
const BUILD_COLORS = [32, 36, 35, 33, 34];

export class Output {
  private readonly opts: OutputOptions;
  private readonly sensitive: SecretMasker;
  private readonly bars: TerminalBars | undefined;
  constructor(opts: OutputOptions) {
    if (opts.terminal && opts.mode === "human") {
      const bars = new TerminalBars(opts.terminal, opts.write);
      this.bars = bars;
      opts = { ...opts, write: (s) => bars.write(s) };
    }
    this.opts = opts;
    this.sensitive = new SecretMasker(opts.sensitive);
  }

  get mode(): OutputMode {
    return this.opts.mode;
  }

  /** This output's own sensitive values, then the process's (core/ui/secrets.ts). */
  mask(text: string): string {
    return maskSecrets(this.sensitive.mask(text));
  }

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }

  private stamp(): string {
    return this.opts.timestamp ? `${this.now().toISOString().replace(/\.\d{3}Z$/, "Z")}: ` : "";
  }

  private unix(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  /** A line said on behalf of a build (or of the run when build is undefined). */
  line(kind: LineKind, build: { name: string; colorIndex: number } | undefined, text: string): void {
    const masked = this.mask(terminalSafe(text));
    const lines = masked.replace(/\r?\n$/, "").split(/\r?\n/);
    for (const l of lines) this.emitLine(kind, build, l);
  }

  private emitLine(kind: LineKind, build: { name: string; colorIndex: number } | undefined, text: string): void {
    const { mode } = this.opts;
    const rendered = renderHuman(kind, build?.name, text);
    if (mode === "machine") {
      this.opts.write(`${this.unix()},,ui,${kind},${machineEscape(rendered)}\n`);
      return;
    }
    if (mode === "json") {
      this.json({ type: kind, build: build?.name ?? null, message: text });
      return;
    }
    let out = rendered;
    if (this.opts.color && build) {
      const code = kind === "error" ? 31 : (BUILD_COLORS[build.colorIndex % BUILD_COLORS.length] ?? 32);
      const weight = kind === "message" ? 0 : 1;
      out = `\x1b[${weight};${code}m${rendered}\x1b[0m`;
    }
    this.opts.write(`${this.stamp()}${out}\n`);
  }

  /** `NAME: output will be in this color.` — in the build's colour, with no `==>` (as Packer). */
  announce(colorIndex: number, text: string): void {
    if (this.opts.mode !== "human") return;
    const code = BUILD_COLORS[colorIndex % BUILD_COLORS.length] ?? 32;
    this.opts.write(`${this.stamp()}\x1b[1;${code}m${this.mask(terminalSafe(text))}\x1b[0m\n`);
  }

  /** Closing summary lines are plain text, never timestamped or coloured (as Packer). */
  plain(text: string): void {
    const masked = this.mask(noForgedHeadlines(terminalSafe(text)));
    if (this.opts.mode === "human") this.opts.write(`${masked}\n`);
    else if (this.opts.mode === "json") this.json({ type: "summary", message: masked });
  }

  /** A machine-readable record: `TS,TARGET,TYPE,DATA...`; also an event in -json-events. */
  machine(target: string, type: string, data: string[]): void {
    if (this.opts.mode === "machine") {
      const fields = [String(this.unix()), target, type, ...data.map((d) => machineEscape(this.mask(terminalSafe(d))))];
      this.opts.write(`${fields.join(",")}\n`);
    } else if (this.opts.mode === "json") {
      this.json({ type, build: target || null, data: data.map((d) => this.mask(terminalSafe(d))) });
    }
  }

  /** A transfer's progress: a bar on a terminal, quarter lines in a log, events in -json-events. */
  progress(build: { name: string; colorIndex: number }, rawLabel: string, total: number | undefined, sink: ProgressSink): ProgressTracker {
    // A bar's label is drawn on the terminal directly: the same sanitizing, on one line.
    const label = this.mask(terminalSafe(rawLabel).replace(/\n+/g, " "));
    if (this.opts.mode === "json") return new EventProgress((e) => this.json(e), build.name, label, total);
    if (this.bars) {
      const code = BUILD_COLORS[build.colorIndex % BUILD_COLORS.length] ?? 32;
      const prefix = this.opts.color ? `\x1b[0;${code}m    ${build.name}:\x1b[0m` : `    ${build.name}:`;
      const bar = this.bars.bar(prefix, label, total, (line) => sink.message(line));
      if (bar) return bar;
    }
    return new LineProgress(sink, label, total);
  }

  /** -json-events: one JSON object per line. */
  json(event: Record<string, unknown>): void {
    if (this.opts.mode !== "json") return;
    this.opts.write(`${JSON.stringify({ time: this.now().toISOString(), ...event })}\n`);
  }
}

function renderHuman(kind: LineKind, build: string | undefined, text: string): string {
  if (!build) return kind === "message" ? `    ${text}` : `==> ${text}`;
  return kind === "message" ? `    ${build}: ${text}` : `==> ${build}: ${text}`;
}

// Packer's machine-readable escaping: commas and newlines may not appear raw in a field.
export function machineEscape(s: string): string {
  return s.replaceAll(",", "%!(PACKER_COMMA)").replaceAll("\r", "\\r").replaceAll("\n", "\\n");
}
