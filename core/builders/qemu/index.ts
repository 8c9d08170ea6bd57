// Packer's `qemu` builder, the essentials: boot an existing disk image (or a kernel and initrd with
// it) headless under KVM or TCG, provision over SSH through a port forwarded on 127.0.0.1, shut
// down, and write the disk flattened in qcow2 or raw.
import { rm } from "node:fs/promises";
import type { Builder, BuilderFactory, BuildState } from "../types.ts";
import type { Artifact } from "../../build/artifact.ts";
import { stepProvision } from "../docker/common-steps.ts";
import { parseQemuConfig, qemuSchema, type QemuConfig } from "./config.ts";
import {
  stepAccelerator,
  stepBootWait,
  stepConnectVm,
  stepOutputDir,
  stepPrepareDisk,
  stepRunVm,
  stepShutdown,
  stepWorkDir,
  stepWriteDisk,
  type QemuRun,
} from "./steps.ts";

export { qemuSchema, type QemuConfig } from "./config.ts";
export { testBoot, chooseAccelerator, type Accelerator } from "./accelerator.ts";

/** Packer's qemu builder id. */
export const QEMU_BUILDER_ID = "transcend.qemu";

class QemuBuilder implements Builder {
  private r: QemuRun = {};
  constructor(private readonly c: QemuConfig) {}

  steps() {
    const { c } = this;
    const r = (this.r = {});
    return [
      stepOutputDir(c, r),
      stepWorkDir(r),
      stepPrepareDisk(c, r),
      stepAccelerator(c, r),
      stepRunVm(c, r),
      stepBootWait(c),
      stepConnectVm(c, r),
      stepProvision(),
      stepShutdown(c, r),
      stepWriteDisk(c, r),
    ];
  }

  artifact(_state: BuildState): Artifact | null {
    const { c, r } = this;
    if (!r.diskFile) return null;
    const file = r.diskFile;
    return {
      builderId: QEMU_BUILDER_ID,
      id: "VM",
      files: [file],
      string: `VM files in directory: ${c.output_directory}`,
      state: {
        diskName: c.vm_name,
        diskType: c.format,
        diskSize: c.disk_size,
        domainType: r.accelerator ?? "",
      },
      destroy: () => rm(file, { force: true }),
    };
  }
}

export const qemuBuilderFactory: BuilderFactory = {
  type: "qemu",
  schema: qemuSchema,
  generatedKeys: ["Host", "Port", "User", "Password", "ConnType", "SSHPublicKey", "SSHPrivateKey"],
  create(config, build) {
    const { config: c, diagnostics } = parseQemuConfig(config, build);
    return c ? { builder: new QemuBuilder(c), diagnostics } : { diagnostics };
  },
};
