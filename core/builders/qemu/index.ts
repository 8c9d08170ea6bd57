// Packer's `qemu` builder, the essentials: boot an existing disk image (or a kernel and initrd with
// it) headless under KVM or TCG, provision over SSH through a port forwarded on 127.0.0.1, shut
// down, and write the disk flattened in qcow2 or raw.
import { rm } from "node:fs/promises";
import type { Builder, BuilderFactory, BuildState } from "../types.ts";
import type { Artifact } from "../../engine/artifact.ts";
import { stepProvision } from "../common/machine-steps.ts";
import { CONNECTION_KEYS, HTTP_SERVER_KEYS } from "../common/generated-data.ts";
import { parseQemuConfig, qemuSchema, type QemuConfig } from "./config.ts";
import { stepCreateCd, stepCreateFloppy, stepDownload, stepHttpServer } from "../common/steps.ts";
import {
  httpIp,
  stepAccelerator,
  stepConfigureVnc,
  stepConnectVm,
  stepCreateVtpm,
  stepPrepareEfivars,
  stepTypeBootCommandQemu,
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
    const r: QemuRun = (this.r = {});
    const workDir = () => r.workDir!;
    return [
      stepDownload(
        {
          urls: c.isoUrls,
          checksum: c.checksum,
          checksumText: c.iso_checksum,
          targetPath: c.iso_target_path,
          extension: c.iso_target_extension,
          description: c.disk_image ? "disk image" : "ISO",
        },
        (d) => (r.isoPath = d.path),
      ),
      stepOutputDir(c, r),
      stepWorkDir(r),
      stepCreateFloppy(c, workDir, (p) => (r.floppyPath = p)),
      stepCreateCd(c, workDir, (p) => (r.cdPath = p)),
      stepPrepareDisk(c, r),
      stepHttpServer(c, () => httpIp(c), (port) => (r.httpPort = port)),
      stepAccelerator(c, r),
      stepConfigureVnc(c, r),
      stepPrepareEfivars(c, r),
      stepCreateVtpm(c, r),
      stepRunVm(c, r),
      stepTypeBootCommandQemu(c, r),
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
    const files = [file, ...(r.extraFiles ?? [])];
    return {
      builderId: QEMU_BUILDER_ID,
      id: "VM",
      files,
      string: `VM files in directory: ${c.output_directory}`,
      state: {
        diskName: c.vm_name,
        diskType: c.format,
        diskSize: c.disk_size,
        domainType: r.accelerator ?? "",
      },
      destroy: async () => {
        for (const f of files) await rm(f, { force: true });
      },
    };
  }
}

export const qemuBuilderFactory: BuilderFactory = {
  type: "qemu",
  schema: qemuSchema,
  generatedKeys: [...CONNECTION_KEYS, ...HTTP_SERVER_KEYS],
  create(config, build) {
    const { config: c, diagnostics } = parseQemuConfig(config, build);
    return c ? { builder: new QemuBuilder(c), diagnostics } : { diagnostics };
  },
};
