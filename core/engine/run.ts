// `imgb build`: runs the selected builds in parallel (up to -parallel-builds), prints Packer's
// closing summary, and turns Ctrl-C into a clean cancellation of every build.
import type { Artifact } from "./artifact.ts";
import type { OnErrorMode } from "../builders/types.ts";
import type { PluginCatalog } from "../plugin/types.ts";
import type { Template } from "../template/model.ts";
import type { Output } from "../ui/output.ts";
import { BuildUi } from "../ui/build-ui.ts";
import { humanDuration } from "../ui/duration.ts";
import { runBuild, type BuildOutcome } from "./build-runner.ts";
import { selectBuilds, type BuildFilter } from "./plan.ts";
import { ComponentPipeline } from "./components.ts";

export interface RunOptions extends BuildFilter {
  template: Template;
  catalog: PluginCatalog;
  out: Output;
  write: (s: string) => void;
  color: boolean;
  /** 0 = all builds at once. */
  parallel: number;
  onError: OnErrorMode;
  force: boolean;
  signal: AbortSignal;
  /** Builds not to run (they failed validation and were reported). */
  skip?: Set<string>;
  /** The pipeline validation prepared the components in (none: one of its own). */
  components?: ComponentPipeline;
}

export interface RunResult {
  exitCode: number;
  artifacts: Array<{ build: string; artifact: Artifact }>;
  cancelled: boolean;
}

export async function runBuilds(opts: RunOptions): Promise<RunResult> {
  const { out, template } = opts;
  const builds = selectBuilds(template, opts).filter((b) => !opts.skip?.has(b.name));
  const started = performance.now();

  const uis = builds.map((b, i) => new BuildUi(out, b.name, i, opts.write));
  if (opts.color && out.mode === "human") {
    uis.forEach((ui, i) => out.announce(i, `${ui.buildName}: output will be in this color.`));
    out.plain("");
  }

  const components = opts.components ?? new ComponentPipeline(opts.catalog);
  const outcomes: Array<{ name: string; outcome: BuildOutcome }> = [];
  const limit = opts.parallel > 0 ? opts.parallel : builds.length;
  let next = 0;
  const worker = async () => {
    while (next < builds.length) {
      const i = next++;
      const spec = builds[i]!;
      const ui = uis[i]!;
      if (opts.signal.aborted) break;
      const t0 = performance.now();
      const outcome = await runBuild({
        spec,
        templateDir: template.dir,
        format: template.format,
        components,
        ui,
        uiFor: (type) => new BuildUi(out, `${spec.name} (${type})`, i, opts.write),
        signal: opts.signal,
        onError: opts.onError,
        force: opts.force,
        variables: template.variables,
      });
      const took = humanDuration(performance.now() - t0);
      if (outcome.status === "error") out.plain(`Build '${spec.name}' errored after ${took}: ${outcome.error}`);
      else out.plain(`Build '${spec.name}' finished after ${took}.`);
      outcomes.push({ name: spec.name, outcome });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, builds.length)) }, worker));
  } finally {
    if (!opts.components) await components.closeAll();
  }

  out.plain("");
  out.plain(`==> Wait completed after ${humanDuration(performance.now() - started)}`);
  out.plain("");

  // Report in template order, whatever order builds finished in.
  const order = new Map(builds.map((b, i) => [b.name, i]));
  outcomes.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));

  const cancelled = opts.signal.aborted;
  const failed = outcomes.filter((o) => o.outcome.status === "error");
  const artifacts = outcomes.flatMap((o) =>
    o.outcome.status === "cancelled" ? [] : o.outcome.artifacts.map((artifact) => ({ build: o.name, artifact })),
  );

  if (cancelled) {
    out.plain("Cleanly cancelled builds after being interrupted.");
    return { exitCode: 1, artifacts, cancelled };
  }
  if (failed.length) {
    out.plain("==> Some builds didn't complete successfully and had errors:");
    for (const f of failed) {
      const error = f.outcome.status === "error" ? f.outcome.error : "";
      out.plain(`--> ${f.name}: ${error}`);
      out.machine(f.name, "error", [error]);
    }
    out.plain("");
  }
  if (artifacts.length) {
    out.plain("==> Builds finished. The artifacts of successful builds are:");
    const perBuild = new Map<string, number>();
    for (const { build, artifact } of artifacts) {
      out.plain(`--> ${build}: ${artifact.string}`);
      const n = perBuild.get(build) ?? 0;
      perBuild.set(build, n + 1);
      emitArtifactRecords(out, build, n, artifact);
    }
    for (const [build, count] of perBuild) out.machine(build, "artifact-count", [String(count)]);
  } else {
    out.plain("==> Builds finished but no artifacts were created.");
  }
  if (failed.length) out.machine("", "error-count", [String(failed.length)]);
  return { exitCode: failed.length ? 1 : 0, artifacts, cancelled };
}

function emitArtifactRecords(out: Output, build: string, n: number, a: Artifact): void {
  const i = String(n);
  out.machine(build, "artifact", [i, "builder-id", a.builderId]);
  out.machine(build, "artifact", [i, "id", a.id]);
  out.machine(build, "artifact", [i, "string", a.string]);
  out.machine(build, "artifact", [i, "files-count", String(a.files.length)]);
  a.files.forEach((f, j) => out.machine(build, "artifact", [i, "file", String(j), f]));
  out.machine(build, "artifact", [i, "end"]);
}
