import { defineCommand } from "citty";
import { selfUpdate } from "../core/release/self-update.ts";

export default defineCommand({
  meta: { name: "self-update", description: "Replaces this binary with a newer signed release (never automatic)" },
  args: {
    check: { type: "boolean", description: "only say whether a newer release exists" },
    "base-url": { type: "string", description: "where the release lives (default: IMGB_RELEASE_URL, then the one built in)" },
  },
  run: ({ args }) =>
    selfUpdate({
      check: Boolean(args.check),
      ...(typeof args["base-url"] === "string" ? { baseUrl: args["base-url"] } : {}),
      say: (line) => process.stdout.write(`${line}\n`),
    }),
});
