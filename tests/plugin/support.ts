// Test host parts for plugin tests: a Ui that records every line, build values, and process checks.
import type { ProgressTracker, Ui } from "../../core/ui/types.ts";
import type { BuildContextValues } from "../../core/template/model.ts";

export class RecordingUi implements Ui {
  readonly lines: string[] = [];
  answers: string[] = [];
  say(message: string): void {
    this.lines.push(`say: ${message}`);
  }
  message(message: string): void {
    this.lines.push(`message: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
  async ask(query: string): Promise<string> {
    this.lines.push(`ask: ${query}`);
    return this.answers.shift() ?? "";
  }
  progress(label: string): ProgressTracker {
    this.lines.push(`progress: ${label}`);
    return { update: () => {}, finish: () => {} };
  }
  machine(): void {}
}

export function buildValues(over: Partial<BuildContextValues> = {}): BuildContextValues {
  return {
    buildName: "null.example",
    sourceName: "example",
    builderType: "null",
    generated: {},
    placeholders: false,
    ...over,
  };
}

export { processAlive } from "../support/processes.ts";
import { processAlive } from "../support/processes.ts";

/** Waits until none of the pids is alive, or fails after `ms`. */
export async function expectGone(pids: number[], ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = pids.filter(processAlive);
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes still alive: ${alive.join(", ")}`);
    await Bun.sleep(20);
  }
}

/** Pids of this process's sandbox children (`__plugin-sandbox` on their command line). */
export function sandboxChildren(): number[] {
  const fs = require("node:fs") as typeof import("node:fs");
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8");
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && cmd.includes("__plugin-sandbox") && !/^\d+ \(.*\) Z/.test(stat)) out.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
