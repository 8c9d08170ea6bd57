// The `communicator` key every builder accepts, and the StepConnect that turns it into a
// Communicator. Builders with a machine of their own (docker, chroot) provide their own connect step.
import type { ConfigField } from "../config/schema.ts";
import type { Diagnostic } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { JsonObject } from "../values/json.ts";
import type { Step } from "../builders/types.ts";
import { stepConnect } from "../builders/common/machine-steps.ts";
import { noneCommunicator } from "./types.ts";
import { parseSshConfig, sshConfigFields, stepConnectSsh, type SshConfig } from "./ssh/index.ts";

export const COMMUNICATOR_TYPES = ["none", "ssh", "local"] as const;
export type CommunicatorType = (typeof COMMUNICATOR_TYPES)[number];

export const communicatorFields: ConfigField[] = [
  { name: "communicator", type: "string", default: "none", description: "none | ssh" },
  ...sshConfigFields,
];

export interface CommunicatorChoice {
  type: CommunicatorType;
  config: JsonObject;
  ssh?: SshConfig;
}

export function parseCommunicatorConfig(config: JsonObject, diagnostics: Diagnostic[]): CommunicatorChoice | undefined {
  const type = config["communicator"] ?? "none";
  if (typeof type !== "string" || !(COMMUNICATOR_TYPES as readonly string[]).includes(type)) {
    diagnostics.push(errorDiag(`unknown communicator type ${JSON.stringify(type)}; expected one of: none, ssh`));
    return undefined;
  }
  if (type === "ssh") {
    const parsed = parseSshConfig(config);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.config) return undefined;
    if (!parsed.config.host) {
      diagnostics.push(errorDiag('ssh_host must be set when communicator is "ssh"'));
      return undefined;
    }
    return { type: "ssh", config, ssh: parsed.config };
  }
  return { type: type as CommunicatorType, config };
}

export function connectStep(choice: CommunicatorChoice): Step {
  const ssh = choice.ssh;
  if (choice.type === "ssh" && ssh) return stepConnectSsh({ config: () => ssh });
  if (choice.type === "ssh") throw new Error("ssh communicator without ssh settings");
  const type = choice.type;
  return stepConnect(async (state) => {
    state.setGenerated("ConnType", type);
    return noneCommunicator();
  });
}
