// The `communicator` key every builder accepts, and the StepConnect that turns it into a
// Communicator. Builders with a machine of their own (docker, chroot) provide their own connect step.
import type { ConfigField } from "../plugin/schema.ts";
import type { Diagnostic } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { JsonObject } from "../values/json.ts";
import type { Step } from "../builders/types.ts";
import { noneCommunicator } from "./types.ts";

export const COMMUNICATOR_TYPES = ["none", "ssh", "local"] as const;
export type CommunicatorType = (typeof COMMUNICATOR_TYPES)[number];

export const communicatorFields: ConfigField[] = [
  { name: "communicator", type: "string", default: "none", description: "none | ssh" },
];

export interface CommunicatorChoice {
  type: CommunicatorType;
  config: JsonObject;
}

export function parseCommunicatorConfig(config: JsonObject, diagnostics: Diagnostic[]): CommunicatorChoice | undefined {
  const type = config["communicator"] ?? "none";
  if (typeof type !== "string" || !(COMMUNICATOR_TYPES as readonly string[]).includes(type)) {
    diagnostics.push(errorDiag(`unknown communicator type ${JSON.stringify(type)}; expected one of: none, ssh`));
    return undefined;
  }
  return { type: type as CommunicatorType, config };
}

export function connectStep(choice: CommunicatorChoice): Step {
  return {
    name: "StepConnect",
    async run(state) {
      switch (choice.type) {
        case "none":
        case "local":
          state.communicator = noneCommunicator();
          state.setGenerated("ConnType", choice.type);
          return;
        case "ssh":
          throw new Error("the ssh communicator is not available in this build of imgb");
      }
    },
    async cleanup(state) {
      await state.communicator?.close();
    },
  };
}
