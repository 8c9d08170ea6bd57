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
//   - like current SDK releases, its description says protocol_version "v2", and started with
//     --protobuf (anywhere among the arguments: plugin/set.go parseProtobufFlag) it sends the specs
//     as protobuf (rpc/hcl_spec.proto) and Execute's value as cty msgpack; otherwise gob.
// The session, broker and RPC framing reuse imgb's own (core/packer-plugin), which the builder
// tests check against packer 1.6.6's real server; the payloads come from tests/support's own
// encoders (gob-encoder.ts from Go's encoding/gob, cty-protobuf.ts), not from imgb's decoders.
//
// Components: echo (greets its `name`), fail (Execute fails), crash (exits during Execute), hang (Execute never answers; its pid
// and a line saying it got there go to IMGB_TEST_DS_DIR; with IMGB_TEST_DS_SLOW_START=1 it does not
// even finish starting).
import { createServer } from "node:net";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MuxBroker } from "../../core/packer-plugin/mux-broker.ts";
import { serveRpc, type RpcHandler } from "../../core/packer-plugin/rpc.ts";
import { loadMsgpack } from "../../core/packer-plugin/msgpack.ts";
import { objectSpecGob, valueGob, type Cty } from "./cty-gob.ts";
import { objectSpecProto, valueMsgpack } from "./cty-protobuf.ts";

const MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const COMPONENTS = ["echo", "fail", "hang", "crash"];

const OUTPUT: Cty = ["object", { greeting: "string", shout: "string", length: "number", words: ["list", "string"] }];
const CONFIG_ATTRS = { name: { type: "string" as Cty, required: true }, times: { type: "number" as Cty } };
const OUTPUT_ATTRS = { greeting: { type: "string" as Cty }, shout: { type: "string" as Cty }, length: { type: "number" as Cty }, words: { type: ["list", "string"] as Cty } };

const args = process.argv.slice(2);
const useProto = args.includes("--protobuf");
const [cmd, kind, component] = args.filter((a) => a !== "--protobuf");
const spec = (attrs: Record<string, { type: Cty; required?: boolean }>) => (useProto ? objectSpecProto(attrs) : objectSpecGob(attrs));
if (cmd === "describe") {
  process.stdout.write(
    `${JSON.stringify({ version: "1.0.0", sdk_version: "0.6.0", api_version: "x5.0", builders: [], post_processors: [], provisioners: [], datasources: COMPONENTS, protocol_version: "v2" })}\n`,
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
record(`encoding ${useProto ? "protobuf" : "gob"}`);

let config: { name?: string; times?: number } = {};
const handlers: Record<string, RpcHandler> = {
  "Datasource.ConfigSpec": () => ({ ConfigSpec: spec(CONFIG_ATTRS) }),
  "Datasource.OutputSpec": () => ({ OutputSpec: spec(OUTPUT_ATTRS) }),
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
    if (component === "crash") {
      process.stderr.write("panic: runtime error: invalid memory address or nil pointer dereference\n");
      process.exit(2);
    }
    const name = config.name!;
    const times = config.times ?? 1;
    const value = { greeting: `hello, ${name}`, shout: Array(times).fill(name.toUpperCase()).join("-"), length: name.length, words: name.split(" ") };
    return { Value: useProto ? valueMsgpack(OUTPUT, value) : valueGob(OUTPUT, value), Error: null };
  },
};

await loadMsgpack();
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
// IMGB_TEST_DS_SLOW_START: the hang component takes its time before printing its address.
const slow = component === "hang" && process.env.IMGB_TEST_DS_SLOW_START === "1";
server.listen(path, () => setTimeout(() => process.stdout.write(`5|0|unix|${path}\n`), slow ? 600_000 : 0));
process.on("SIGINT", () => record("ignored SIGINT"));
process.on("SIGTERM", () => record("ignored SIGTERM"));

