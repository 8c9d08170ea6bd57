// Steps every machine builder of imgb shares: a scratch folder and the provisioning hook.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildState, Step } from "../types.ts";
import type { Communicator } from "../../communicator/types.ts";

/** Runs the build's provisioners (the engine's hook) on the communicator the connect step set. */
export function stepProvision(): Step {
  return {
    name: "StepProvision",
    async run(state: BuildState) {
      if (!state.communicator) throw new Error("no communicator: the connect step did not run");
      await state.provision(state.communicator);
    },
  };
}

/** Sets `state.communicator`; closes it in cleanup. */
export function stepConnect(connect: (state: BuildState) => Promise<Communicator>): Step {
  return {
    name: "StepConnect",
    async run(state) {
      state.communicator = await connect(state);
    },
    async cleanup(state) {
      const comm = state.communicator;
      state.communicator = undefined;
      await comm?.close();
    },
  };
}

/** A private temp folder for the build; `set` receives its path. Removed in cleanup. */
export function stepTempDir(prefix: string, set: (path: string) => void, get: () => string | undefined): Step {
  return {
    name: "StepTempDir",
    async run() {
      set(await mkdtemp(join(tmpdir(), prefix)));
    },
    async cleanup() {
      const dir = get();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
    abandon: () => (get() ? `the build's scratch folder stays in ${get()}` : undefined),
  };
}
