// `imgb plugin new|build|test`: the plugin author's toolchain, in the binary. Each verb calls one
// function in core/plugin/ (the compiler is loaded only by `build`).
import { defineCommand } from "citty";
import { scaffoldPlugin } from "../core/plugin/scaffold.ts";
import { UserError } from "../core/errors/diagnostic.ts";

const newPlugin = defineCommand({
  meta: { name: "new", description: "Creates a self-contained plugin project (AssemblyScript, SDK included)" },
  args: {
    name: { type: "positional", required: true, description: "namespace/name (the registry name and template type)" },
    kind: { type: "string", default: "provisioner", description: "provisioner | post-processor" },
    dir: { type: "string", default: ".", description: "where to create the folder" },
  },
  async run({ args }) {
    const kind = String(args.kind);
    if (kind !== "provisioner" && kind !== "post-processor") throw new UserError(`--kind ${kind}: expected provisioner or post-processor`);
    const folder = await scaffoldPlugin(String(args.name), String(args.dir), { kind });
    process.stdout.write(`Created ${folder}\nNext: cd ${folder} && imgb plugin build && imgb plugin test\n`);
  },
});

const build = defineCommand({
  meta: { name: "build", description: "Compiles a plugin project to .wasm and runs the load-time checks" },
  args: {
    dir: { type: "positional", required: false, default: ".", description: "plugin project folder" },
    out: { type: "string", description: "output file (default DIR/dist/NAME.wasm)" },
  },
  async run({ args }) {
    const { buildPluginProject } = await import("../core/plugin/toolchain/project.ts");
    const r = await buildPluginProject(String(args.dir), args.out !== undefined ? { out: String(args.out) } : {});
    const d = r.description;
    process.stdout.write(`Built ${r.wasm} (${r.bytes} bytes)${d ? `: ${d.kind} ${d.name} ${d.version}, capabilities: ${d.capabilities.join(", ") || "none"}` : ""}\n`);
  },
});

const test = defineCommand({
  meta: { name: "test", description: "Runs the built plugin in the sandbox: describe, prepare/configure with test/configs.json, a real run" },
  args: {
    dir: { type: "positional", required: false, default: ".", description: "plugin project folder" },
    wasm: { type: "string", description: "module to test (default DIR/dist/NAME.wasm)" },
  },
  async run({ args }) {
    const { testPluginProject } = await import("../core/plugin/toolchain/test-run.ts");
    const failed = await testPluginProject(String(args.dir), (line) => process.stdout.write(`${line}\n`), args.wasm !== undefined ? { wasm: String(args.wasm) } : {});
    if (failed > 0) throw new UserError(`${failed} check(s) failed`);
    process.stdout.write("All checks passed.\n");
  },
});

export default defineCommand({
  meta: { name: "plugin", description: "Plugin authoring: `imgb plugin new NAMESPACE/NAME`, `build`, `test`" },
  subCommands: { new: newPlugin, build, test },
});
