import { defineCommand } from "citty";
import { buildInfo, versionLine } from "../core/release/build-info.ts";
import { PACKER_COMPAT_VERSION } from "../core/version.ts";

export default defineCommand({
  meta: { name: "version", description: "Prints the version, commit, build date and target" },
  args: {
    json: { type: "boolean", description: "one JSON object" },
    "machine-readable": { type: "boolean", description: "Packer's machine-readable lines" },
  },
  run({ args }) {
    const info = buildInfo();
    if (args.json) {
      const { version, commit, date, target } = info;
      process.stdout.write(`${JSON.stringify({ version, commit, date, target, packerCompat: PACKER_COMPAT_VERSION })}\n`);
      return;
    }
    if (args["machine-readable"]) {
      // Packer's `version -machine-readable` lines (timestamp,target,type,data...), plus imgb's own facts.
      const ts = Math.floor(Date.now() / 1000);
      const rows: [string, string][] = [
        ["version", info.version],
        ["version-prelease", ""],
        ["version-commit", info.commit],
        ["version-date", info.date],
        ["version-target", info.target],
        ["version-packer-compat", PACKER_COMPAT_VERSION],
      ];
      for (const [type, data] of rows) process.stdout.write(`${ts},,${type},${data}\n`);
      process.stdout.write(`${ts},,ui,say,${versionLine(info).replaceAll(",", "%!(PACKER_COMMA)")}\n`);
      return;
    }
    process.stdout.write(`${versionLine(info)}\nPacker template compatibility: ${PACKER_COMPAT_VERSION}\n`);
  },
});
