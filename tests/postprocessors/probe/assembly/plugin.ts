// A post-processor for the suite that asks the streaming host functions for whatever its config
// says, to check that the host refuses paths outside the grants.
import { Description, Json, Plugin, PostProcessInput, Prepared, mergeConfigs, ok, postProcessed } from "../../../../plugins-wasm/sdk/assembly/sdk";
import { Streams } from "../../../../plugins-wasm/sdk/assembly/streams";

export function describe(): i32 {
  const d = new Description("post-processor", "stream-probe", "0.1.0")
    .field("hash", "list(string)")
    .field("compress_to", "string")
    .field("stat", "list(string)")
    .capability("artifact_read")
    .capability("artifact_write");
  return ok(d.toJson());
}

export function configure(): i32 {
  return new Prepared().finish(mergeConfigs(Plugin.input()));
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const c = input.config;
  const hash = c.getStringList("hash");
  if (hash !== null && hash.length > 0) Streams.hashFiles(hash, ["sha256"]);
  const stat = c.getStringList("stat");
  if (stat !== null && stat.length > 0) Streams.statFiles(stat, true);
  const to = c.getString("compress_to");
  if (to.length > 0) Streams.compressFiles(input.artifact.files, to, "tar", "gzip", 6);
  return postProcessed(input.artifact, true, false);
}
