// One upload through the SSH communicator, as a command hyperfine can time (connect included, as
// it is for `scp`). Arguments come from the environment set by bench.ts.
import { connectSsh, parseSshConfig } from "../../core/communicator/ssh/index.ts";
import type { Ui } from "../../core/ui/types.ts";
import { consoleUi } from "../../core/registry/console-ui.ts";

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
// Only errors are shown: the console Ui with its stdout dropped.
const quiet: Ui = consoleUi(() => {});
const { config, diagnostics } = parseSshConfig({
  ssh_host: "127.0.0.1",
  ssh_port: Number(env("BENCH_PORT")),
  ssh_username: env("BENCH_USER"),
  ssh_private_key_file: env("BENCH_KEY"),
  ssh_host_key: env("BENCH_HOST_KEY"),
  ssh_file_transfer_method: env("BENCH_METHOD"),
});
if (!config) throw new Error(JSON.stringify(diagnostics));
const signal = new AbortController().signal;
const comm = await connectSsh(config, quiet, signal);
await comm.upload(env("BENCH_DEST"), { kind: "file", path: env("BENCH_SRC") }, {}, signal);
await comm.close();
