// The rootfs builder: a Debian root filesystem made with mmdebstrap (or unpacked from a tarball),
// provisioned through the chroot communicator, written out as tarballs, ext4, a raw or qcow2 disk
// (bootable with syslinux when asked) or an OCI archive. Like Packer's chroot builders, without a cloud around it.
import { rm } from "node:fs/promises";
import type { Builder, BuilderFactory, BuildState } from "../types.ts";
import type { Artifact } from "../../engine/artifact.ts";
import { chrootCommunicator } from "../../communicator/chroot/index.ts";
import { stepConnect, stepProvision } from "../common/machine-steps.ts";
import { parseRootfsConfig, rootfsSchema, type RootfsConfig } from "./config.ts";
import {
  stepCheckTools,
  stepCreateRootfs,
  stepExportKernel,
  stepLendResolvConf,
  stepOutputDir,
  stepRestoreResolvConf,
  stepWorkDir,
  stepWriteFormats,
  type RootfsRun,
} from "./steps.ts";

export { rootfsSchema, ROOTFS_FORMATS, type RootfsConfig, type RootfsFormat } from "./config.ts";
export { hostAptMirror } from "./apt-mirror.ts";

export const ROOTFS_BUILDER_ID = "imgb.rootfs";

class RootfsBuilder implements Builder {
  private readonly r: RootfsRun = { files: [] };
  constructor(private readonly c: RootfsConfig) {}

  steps() {
    const { c, r } = this;
    r.files = [];
    r.succeeded = false;
    return [
      stepCheckTools(c),
      stepOutputDir(c, r),
      stepWorkDir(r),
      stepCreateRootfs(c, r),
      stepLendResolvConf(r),
      stepConnect(async () => chrootCommunicator({ root: r.root! })),
      stepProvision(),
      stepRestoreResolvConf(r),
      stepExportKernel(c, r),
      stepWriteFormats(c, r),
    ];
  }

  artifact(_state: BuildState): Artifact | null {
    const files = [...this.r.files];
    return {
      builderId: ROOTFS_BUILDER_ID,
      id: this.r.outputDir ?? this.c.output_directory,
      files,
      string: `Root filesystem (${this.c.suite}) in ${this.c.output_directory}: ${files.map((f) => f.split("/").pop()).join(", ")}`,
      state: {
        suite: this.c.suite,
        formats: this.c.formats,
        image_ref: this.c.image_ref,
        bootloader: this.c.bootloader,
        ...(this.r.rootUuid ? { root_uuid: this.r.rootUuid } : {}),
        files,
      },
      destroy: async () => {
        for (const f of files) await rm(f, { force: true });
      },
    };
  }
}

export const rootfsBuilderFactory: BuilderFactory = {
  type: "rootfs",
  schema: rootfsSchema,
  generatedKeys: [],
  create(config, build) {
    const { config: c, diagnostics } = parseRootfsConfig(config, build);
    return c ? { builder: new RootfsBuilder(c), diagnostics } : { diagnostics };
  },
};
