import { describe, expect, test } from "bun:test";
import { runSteps, StepFailed } from "../../core/engine/multistep.ts";
import { Cancelled } from "../../core/errors/cancelled.ts";
import type { BuildState, Step } from "../../core/builders/types.ts";
import type { Ui } from "../../core/ui/types.ts";

function recordingUi(lines: string[]): Ui {
  return {
    say: (m) => void lines.push(`say ${m}`),
    message: (m) => void lines.push(`message ${m}`),
    error: (m) => void lines.push(`error ${m}`),
    ask: async () => "",
    progress: () => ({ update() {}, finish() {} }),
    machine() {},
  };
}

function state(lines: string[], signal = new AbortController().signal): BuildState {
  return {
    ui: recordingUi(lines),
    signal,
    build: { buildName: "b", sourceName: "b", builderType: "null", generated: {}, placeholders: false },
    templateDir: "/",
    scratch: {},
    setGenerated() {},
    provision: async () => {},
  };
}

function step(name: string, log: string[], fail = false): Step {
  return {
    name,
    async run() {
      log.push(`run ${name}`);
      if (fail) throw new Error(`${name} broke`);
    },
    async cleanup() {
      log.push(`cleanup ${name}`);
    },
  };
}

describe("runSteps", () => {
  test("cleans up every step that ran, in reverse order, after success", async () => {
    const log: string[] = [];
    await runSteps([step("A", log), step("B", log), step("C", log)], state([]));
    expect(log).toEqual(["run A", "run B", "run C", "cleanup C", "cleanup B", "cleanup A"]);
  });

  test("stops at a failed step and cleans up only the steps that ran", async () => {
    const log: string[] = [];
    const err = await runSteps([step("A", log), step("B", log, true), step("C", log)], state([])).catch((e) => e);
    expect(err).toBeInstanceOf(StepFailed);
    expect((err as StepFailed).step).toBe("B");
    expect(log).toEqual(["run A", "run B", "cleanup B", "cleanup A"]);
  });

  test("abort skips every cleanup and says so", async () => {
    const log: string[] = [];
    const lines: string[] = [];
    await runSteps([step("StepConnect", log), step("StepProvision", log, true)], state(lines), {
      onStepError: async () => "abort",
    }).catch(() => undefined);
    expect(log).toEqual(["run StepConnect", "run StepProvision"]);
    expect(lines).toEqual([
      'error aborted: skipping cleanup of step "StepProvision"',
      'error aborted: skipping cleanup of step "StepConnect"',
    ]);
  });

  test("retry runs the failed step again", async () => {
    const log: string[] = [];
    let attempts = 0;
    const flaky: Step = {
      name: "Flaky",
      async run() {
        attempts++;
        log.push(`run Flaky ${attempts}`);
        if (attempts < 3) throw new Error("not yet");
      },
    };
    await runSteps([flaky, step("After", log)], state([]), { onStepError: async () => "retry" });
    expect(log).toEqual(["run Flaky 1", "run Flaky 2", "run Flaky 3", "run After", "cleanup After"]);
  });

  test("cancellation stops before the next step and still cleans up", async () => {
    const log: string[] = [];
    const ac = new AbortController();
    const cancelling: Step = {
      name: "Cancelling",
      async run() {
        log.push("run Cancelling");
        ac.abort();
      },
      async cleanup() {
        log.push("cleanup Cancelling");
      },
    };
    const err = await runSteps([step("A", log), cancelling, step("Never", log)], state([], ac.signal)).catch((e) => e);
    expect(err).toBeInstanceOf(Cancelled);
    expect(log).toEqual(["run A", "run Cancelling", "cleanup Cancelling", "cleanup A"]);
  });

  test("a failing cleanup is reported and the other cleanups still run", async () => {
    const log: string[] = [];
    const lines: string[] = [];
    const bad: Step = {
      name: "Bad",
      async run() {},
      async cleanup() {
        throw new Error("disk gone");
      },
    };
    await runSteps([step("A", log), bad], state(lines));
    expect(log).toEqual(["run A", "cleanup A"]);
    expect(lines).toEqual(['error Cleanup of step "Bad" failed: disk gone']);
  });
});
