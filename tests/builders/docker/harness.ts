// Drives a BuilderFactory the way the engine does (Packer's multistep: run the steps in order, then
// the cleanups of the steps that ran, in reverse, on success, failure and abort alike), with a real
// provisioning hook supplied by each test. Also snapshots what a build could leave behind.
import { readdir, readFile } from "node:fs/promises";
import type { BuilderFactory, BuildState, Step } from "../../../core/builders/types.ts";
import type { Artifact } from "../../../core/engine/artifact.ts";
import type { Communicator } from "../../../core/communicator/types.ts";
import type { ProgressTracker, Ui } from "../../../core/ui/types.ts";
import type { JsonObject, JsonValue } from "../../../core/values/json.ts";
import { runText } from "../../../core/process/child.ts";

export interface RecordingUi extends Ui {
  lines: string[];
}

export function recordingUi(echo = !!process.env.IMGB_TEST_VERBOSE): RecordingUi {
  const lines: string[] = [];
  const add = (kind: string) => (m: string) => {
    lines.push(`${kind} ${m}`);
    if (echo) console.log(`${kind} ${m}`);
  };
  return {
    lines,
    say: add("==>"),
    message: add("   "),
    error: add("!!!"),
    ask: async () => {
      throw new Error("no TTY in tests");
    },
    progress: (): ProgressTracker => ({ update() {}, finish() {} }),
    machine() {},
  };
}

export interface BuildOutcome {
  artifact: Artifact | null;
  error?: unknown;
  failedStep?: string;
  generated: Record<string, JsonValue>;
  ui: RecordingUi;
}

export async function runBuild(
  factory: BuilderFactory,
  config: JsonObject,
  provision: (comm: Communicator, state: BuildState) => Promise<void>,
  signal: AbortSignal = new AbortController().signal,
): Promise<BuildOutcome> {
  const build = { buildName: `${factory.type}.test`, sourceName: "test", builderType: factory.type, generated: {}, placeholders: false };
  const { builder, diagnostics } = factory.create(config, build);
  if (!builder) throw new Error(`config rejected: ${diagnostics.map((d) => d.summary).join("; ")}`);
  const ui = recordingUi();
  const generated: Record<string, JsonValue> = {};
  const state: BuildState = {
    ui,
    signal,
    build,
    templateDir: process.cwd(),
    setGenerated: (k, v) => void (generated[k] = v),
    provision: (comm) => provision(comm, state),
    scratch: {},
  };
  const ran: Step[] = [];
  let error: unknown;
  let failedStep: string | undefined;
  for (const step of builder.steps()) {
    if (signal.aborted) {
      error = new Error("cancelled");
      break;
    }
    ran.push(step);
    try {
      await step.run(state);
    } catch (err) {
      error = err;
      failedStep = step.name;
      break;
    }
  }
  for (const step of ran.reverse()) {
    try {
      await step.cleanup?.(state);
    } catch (err) {
      ui.error(`cleanup of ${step.name} failed: ${err}`);
      error ??= err;
    }
  }
  const artifact = error ? null : builder.artifact(state);
  return { artifact, error, failedStep, generated, ui };
}

/** Text helpers for communicator calls in provisioning hooks. */
export async function sh(comm: Communicator, command: string, signal = new AbortController().signal) {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const result = await comm.start(
    { command, onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) },
    signal,
  );
  const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString("utf8");
  return { result, stdout: text(out), stderr: text(err) };
}

/** What a build could leave behind: our child processes, containers, mounts, loop devices, netns. */
export interface Leftovers {
  children: string[];
  containers: string[];
  mounts: string[];
  loops: string[];
  netns: string[];
}

export async function leftovers(mountFilter = "imgb-"): Promise<Leftovers> {
  const children = await descendants(process.pid);
  const containers = (await runText(["podman", "ps", "-a", "-q", "--no-trunc"]).catch(() => ""))
    .split("\n")
    .filter(Boolean);
  const mounts = (await readFile("/proc/self/mountinfo", "utf8"))
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.includes(mountFilter));
  const loops = (await runText(["losetup", "-a"]).catch(() => "")).split("\n").filter(Boolean);
  const netns = (await readdir("/run/netns").catch(() => [] as string[])).filter(Boolean);
  return { children, containers, mounts, loops, netns };
}

async function descendants(root: number): Promise<string[]> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const m = /^(\d+) \((.*)\) \S+ (\d+)/.exec(stat);
    if (m) {
      parents.set(Number(m[1]), Number(m[3]));
      names.set(Number(m[1]), m[2]!);
    }
  }
  const out: string[] = [];
  for (const [pid] of parents) {
    let p = parents.get(pid);
    while (p !== undefined && p > 1) {
      if (p === root) {
        out.push(`${pid} ${names.get(pid)}`);
        break;
      }
      p = parents.get(p);
    }
  }
  return out;
}
