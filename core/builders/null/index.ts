// Packer's null builder: no machine of its own; it connects to an existing host (or to nothing with
// communicator "none") so provisioners can run. Artifact id "Null", builder id "fnoeding.null".
import type { Builder, BuilderFactory, BuildState, Step } from "../types.ts";
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import { decode } from "../../config/decode.ts";
import { issueDiagnostic } from "../../config/messages.ts";
import type { Artifact } from "../../engine/artifact.ts";
import { stepProvision } from "../common/machine-steps.ts";
import { CONNECTION_KEYS } from "../common/generated-data.ts";
import { communicatorFields, connectStep, parseCommunicatorConfig } from "../../communicator/select.ts";

const nullSchema = { fields: communicatorFields };

export const nullBuilder: BuilderFactory = {
  type: "null",
  schema: nullSchema,
  generatedKeys: ["ID", ...CONNECTION_KEYS],
  create(config) {
    const { value, issues } = decode(nullSchema, config);
    const diagnostics: Diagnostic[] = issues.map((i) => issueDiagnostic(i, { prefix: "null" }));
    if (diagnostics.length > 0) return { diagnostics };
    const comm = parseCommunicatorConfig(value, diagnostics);
    if (!comm) return { diagnostics };
    if (comm.type === "local") diagnostics.push(errorDiag('communicator "local" is not supported by the null builder; use "none" or "ssh"'));
    const builder: Builder = {
      steps(): Step[] {
        return [
          {
            name: "StepPublishID",
            async run(state: BuildState) {
              state.setGenerated("ID", "Null");
            },
          },
          connectStep(comm),
          stepProvision(),
        ];
      },
      artifact(): Artifact {
        return {
          builderId: "fnoeding.null",
          id: "Null",
          files: [],
          string: "Did not export anything. This is the null builder",
          state: {},
          destroy: async () => {},
        };
      },
    };
    return { builder, diagnostics };
  },
};
