import { defineCommand } from "citty";
import { IMGB_VERSION, PACKER_COMPAT_VERSION } from "../core/version.ts";

export default defineCommand({
  meta: { name: "version", description: "Prints the imgb version" },
  run() {
    process.stdout.write(`imgb v${IMGB_VERSION} (Packer template compatibility: ${PACKER_COMPAT_VERSION})\n`);
  },
});
