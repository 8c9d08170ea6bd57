// Packer's file builder: writes `target` from `content`, or copies `source`; the artifact is that file.
import { copyFile, chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { BuilderFactory, Step } from "../types.ts";
import { defineFields } from "../../config/schema.ts";
import { decodeTyped } from "../../config/typed.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import { stepProvision } from "../common/machine-steps.ts";
import { noneCommunicator } from "../../communicator/types.ts";

const fileSchema = {
  fields: defineFields([
    { name: "target", type: "string", required: true, description: "file to write" },
    { name: "content", type: "string", description: "text written to target" },
    { name: "source", type: "string", description: "file copied to target" },
  ]),
};

export const fileBuilder: BuilderFactory = {
  type: "file",
  schema: fileSchema,
  generatedKeys: ["ID"],
  create(config) {
    const { value: c, diagnostics } = decodeTyped("file", fileSchema, config);
    if (!c) return { diagnostics };
    const { target, content, source } = c;
    if (target === "") diagnostics.push(errorDiag("target must be specified"));
    if (content !== "" && source !== "") diagnostics.push(errorDiag("only one of source or content may be specified"));
    if (content === "" && source === "") diagnostics.push(errorDiag("source or content must be specified"));
    if (diagnostics.length) return { diagnostics };

    let targetPath = target;
    const steps: Step[] = [
      {
        name: "StepWriteFile",
        async run(state) {
          targetPath = isAbsolute(target) ? target : resolve(process.cwd(), target);
          await mkdir(dirname(targetPath), { recursive: true });
          if (source !== "") {
            state.ui.say(`Copying ${source} to ${target}`);
            await copyFile(isAbsolute(source) ? source : resolve(process.cwd(), source), targetPath);
          } else {
            state.ui.say(`Writing content to ${target}`);
            await writeFile(targetPath, content);
          }
          await chmod(targetPath, 0o600);
          state.setGenerated("ID", target);
          state.communicator = noneCommunicator();
        },
      },
      stepProvision(),
    ];
    return {
      diagnostics,
      builder: {
        steps: () => steps,
        artifact: () => ({
          builderId: "packer.file",
          id: target,
          files: [target],
          string: `Stored file: ${target}`,
          state: {},
          destroy: async () => {
            await rm(targetPath, { force: true });
          },
        }),
      },
    };
  },
};
