// StepProvision: the same step in every builder; it hands the machine's communicator to the
// engine's provisioning hook.
import type { Step } from "../../builders/types.ts";

export const stepProvision: Step = {
  name: "StepProvision",
  async run(state) {
    if (!state.communicator) throw new Error("no communicator: the connect step did not run");
    await state.provision(state.communicator);
  },
};
