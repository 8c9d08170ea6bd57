import { defineCommand } from "citty";
import { scaffoldPlugin } from "../core/plugin/scaffold.ts";

const newPlugin = defineCommand({
  meta: { name: "new", description: "Creates a plugin folder with the SDK wired in (AssemblyScript)" },
  args: {
    name: { type: "positional", required: true, description: "plugin name (lower-case, dashes)" },
    kind: { type: "string", default: "provisioner", description: "provisioner | post-processor" },
    dir: { type: "string", default: ".", description: "where to create the folder" },
  },
  run({ args }) {
    const kind = args.kind === "post-processor" ? "post-processor" : "provisioner";
    const folder = scaffoldPlugin(String(args.name), String(args.dir), { kind });
    process.stdout.write(`Created ${folder}\n`);
  },
});

export default defineCommand({
  meta: { name: "plugin", description: "Plugin authoring: `imgb plugin new NAME`" },
  subCommands: { new: newPlugin },
});
