// Packer's `docker` builder, run against podman (or any docker-compatible CLI): start a container
// from an image, provision it over `exec`, then commit it to an image, export its filesystem as a
// tar, or discard it.
import { rm } from "node:fs/promises";
import type { Builder, BuilderFactory, BuildState } from "../types.ts";
import type { Artifact } from "../../engine/artifact.ts";
import { run } from "../../process/child.ts";
import { stepConnect, stepProvision, stepTempDir } from "../common/machine-steps.ts";
import { dockerSchema, parseDockerConfig, type DockerConfig } from "./config.ts";
import {
  engineArgv,
  stepCommit,
  stepConnectContainer,
  stepExport,
  stepPull,
  stepRunContainer,
  type DockerRun,
} from "./steps.ts";

export { dockerSchema, type DockerConfig, DEFAULT_RUN_COMMAND, DEFAULT_ULIMITS } from "./config.ts";

/** Packer's ids: a committed image is a docker-import artifact; an export is the docker builder's. */
export const DOCKER_BUILDER_ID = "packer.docker";
export const DOCKER_IMPORT_ID = "packer.post-processor.docker-import";

class DockerBuilder implements Builder {
  private readonly r: DockerRun = {};
  constructor(private readonly c: DockerConfig) {}

  steps() {
    const { c, r } = this;
    return [
      stepTempDir({ prefix: "imgb-docker-", set: (p) => (r.tempDir = p), get: () => r.tempDir }),
      stepPull(c),
      stepRunContainer(c, r),
      stepConnect(stepConnectContainer(c, r)),
      stepProvision(),
      ...(c.commit ? [stepCommit(c, r)] : []),
      ...(c.export_path ? [stepExport(c, r)] : []),
    ];
  }

  artifact(_state: BuildState): Artifact | null {
    const { c, r } = this;
    if (c.commit && r.imageId) {
      const imageId = r.imageId;
      return {
        builderId: DOCKER_IMPORT_ID,
        id: imageId,
        files: [],
        string: `Imported Docker image: ${imageId}`,
        state: { ImageSha256: imageId },
        destroy: async () => {
          await run(engineArgv(c, "rmi", imageId));
        },
        image: { ref: imageId, engine: engineArgv(c) },
      };
    }
    if (c.export_path) {
      const path = c.export_path;
      return {
        builderId: DOCKER_BUILDER_ID,
        id: path,
        files: [path],
        string: `Exported Docker file: ${path}`,
        state: {},
        destroy: () => rm(path, { force: true }),
        engine: engineArgv(c),
      };
    }
    return null; // discard
  }
}

export const dockerBuilderFactory: BuilderFactory = {
  type: "docker",
  schema: dockerSchema,
  generatedKeys: ["ImageSha256"],
  create(config) {
    const { config: c, diagnostics } = parseDockerConfig(config);
    return c ? { builder: new DockerBuilder(c), diagnostics } : { diagnostics };
  },
};
