// A multi-component Packer plugin serving data sources, for the tests: no SDK-built plugin binary
// can be had here, and packer 1.6.6 predates data sources, so this one is written from the
// protocol as packer-plugin-sdk implements it (plugin/set.go, plugin/server.go, rpc/server.go,
// rpc/datasource.go, rpc/common.go, rpc/cty_encode.go) and go-cty's cty/gob.go:
//   - `describe` prints the set's JSON; `start datasource NAME` checks the magic cookie, listens on
//     a unix socket, prints `5|0|unix|PATH`, ignores SIGINT and SIGTERM, serves one connection
//     (yamux server, mux broker stream 0, net/rpc with the msgpack codec) and exits when it closes;
//   - Datasource.ConfigSpec / OutputSpec reply a gob-encoded hcldec.ObjectSpec, Configure takes
//     cty JSON bytes ({"value","type"}), Execute replies a gob-encoded cty.Value; a failing
//     Configure or Execute returns its error from the RPC method, as the SDK's server does.
// The session, broker and RPC framing reuse imgb's own (core/packer-plugin), which the builder
// tests check against packer 1.6.6's real server; the gob payloads come from tests/support's own
// encoder (gob-encoder.ts), written from Go's encoding/gob, not from imgb's decoder. It speaks gob
// only, as SDK releases before protocol v2 did, so its description has no protocol_version.
//
// Components: echo (greets its `name`), fail (Execute fails), hang (Execute never answers; its pid
// and a line saying it got there go to IMGB_TEST_DS_DIR).
import { createServer } from "node:net";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MuxBroker } from "../../core/packer-plugin/mux-broker.ts";
import { serveRpc, type RpcHandler } from "../../core/packer-plugin/rpc.ts";
import { objectSpecGob, valueGob, type Cty } from "./cty-gob.ts";

const MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const COMPONENTS = ["echo", "fail", "hang"];

const OUTPUT: Cty = ["object", { greeting: "string", shout: "string", length: "number", words: ["list", "string"] }];
const CONFIG_SPEC = objectSpecGob({ name: { type: "string", required: true }, times: { type: "number" } });
const OUTPUT_SPEC = objectSpecGob({ greeting: { type: "string" }, shout: { type: "string" }, length: { type: "number" }, words: { type: ["list", "string"] } });

const [cmd, kind, component] = process.argv.slice(2);
if (cmd === "describe") {
  process.stdout.write(
    `${JSON.stringify({ version: "1.0.0", sdk_version: "0.4.0", api_version: "x5.0", builders: [], post_processors: [], provisioners: [], datasources: COMPONENTS })}\n`,
  );
  process.exit(0);
}
if (cmd !== "start" || kind !== "datasource" || !COMPONENTS.includes(component ?? "")) {
  process.stderr.write(`unknown command: ${process.argv.slice(2).join(" ")}\n`);
  process.exit(1);
}
if (process.env.PACKER_PLUGIN_MAGIC_COOKIE !== MAGIC_COOKIE_VALUE) {
  process.stderr.write("Please do not execute plugins directly. Packer will execute these for you.\n");
  process.exit(1);
}
const record = (line: string) => process.env.IMGB_TEST_DS_DIR && appendFileSync(join(process.env.IMGB_TEST_DS_DIR, `${component}.log`), `${line}\n`);
record(`pid ${process.pid}`);

let config: { name?: string; times?: number } = {};
const handlers: Record<string, RpcHandler> = {
  "Datasource.ConfigSpec": () => ({ ConfigSpec: CONFIG_SPEC }),
  "Datasource.OutputSpec": () => ({ OutputSpec: OUTPUT_SPEC }),
  "Datasource.Configure": (arg) => {
    const configs = (arg as { Configs?: unknown[] }).Configs ?? [];
    const raw = configs[0];
    if (!(raw instanceof Uint8Array)) throw new Error("Configure: expected cty JSON bytes");
    const parsed = JSON.parse(new TextDecoder().decode(raw)) as { value: typeof config; type: unknown };
    if (!("type" in parsed)) throw new Error("Configure: no cty type in the JSON");
    config = parsed.value ?? {};
    record(`configured ${JSON.stringify(config)}`);
    if (!config.name) throw new Error("1 error(s) occurred:\n\n* name must be set");
    return { Error: null };
  },
  "Datasource.Execute": async () => {
    record("executing");
    if (component === "fail") throw new Error(`no image named ${config.name} was found`);
    if (component === "hang") await new Promise(() => {});
    const name = config.name!;
    const times = config.times ?? 1;
    const value = { greeting: `hello, ${name}`, shout: Array(times).fill(name.toUpperCase()).join("-"), length: name.length, words: name.split(" ") };
    return { Value: valueGob(OUTPUT, value), Error: null };
  },
};

const dir = mkdtempSync(join(tmpdir(), "packer-plugin-"));
const path = join(dir, "plugin.sock");
const server = createServer((socket) => {
  server.close();
  const broker = new MuxBroker(socket, "server");
  broker.session.onClose(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  broker.accept(0).then((stream) => serveRpc(stream, handlers));
});
server.listen(path, () => process.stdout.write(`5|0|unix|${path}\n`));
process.on("SIGINT", () => record("ignored SIGINT"));
process.on("SIGTERM", () => record("ignored SIGTERM"));

