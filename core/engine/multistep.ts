// Packer's multistep runner: steps run in order; when one fails (or the build is cancelled), the
// cleanups of the steps that ran are called in reverse order. -on-error=abort skips the cleanups.
import type { BuildState, Step } from "../builders/types.ts";
import { Cancelled } from "../errors/cancelled.ts";

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "StepFailed";
  }
}

export interface RunStepsOptions {
  /** Decide after a failed step: clean up (default), or abort and leave everything as it is. */
  onStepError?: (step: Step, error: unknown) => Promise<"cleanup" | "abort" | "retry">;
}

export async function runSteps(steps: Step[], state: BuildState, opts: RunStepsOptions = {}): Promise<void> {
  const ran: Step[] = [];
  let failure: StepFailed | Cancelled | undefined;
  let abort = false;
  for (const step of steps) {
    if (state.signal.aborted) {
      failure = new Cancelled();
      break;
    }
    ran.push(step);
    let decision: "cleanup" | "abort" | "retry" = "retry";
    while (decision === "retry") {
      try {
        await step.run(state);
        decision = "cleanup";
        break;
      } catch (err) {
        if (state.signal.aborted) {
          failure = new Cancelled();
          decision = "cleanup";
          break;
        }
        decision = opts.onStepError ? await opts.onStepError(step, err) : "cleanup";
        if (decision !== "retry") failure = new StepFailed(step.name, err);
      }
    }
    if (decision === "abort") abort = true;
    if (failure) break;
  }
  for (const step of ran.reverse()) {
    if (!step.cleanup) continue;
    if (abort) {
      const left = step.abandon?.(state);
      state.ui.error(`aborted: skipping cleanup of step "${step.name}"${left ? `: ${left}` : ""}`);
      continue;
    }
    try {
      await step.cleanup(state);
    } catch (err) {
      state.ui.error(`Cleanup of step "${step.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failure) throw failure;
}
