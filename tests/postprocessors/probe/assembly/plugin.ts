// A post-processor for the suite that asks the streaming host functions for whatever its config
// says, to check that the host refuses paths outside the grants.
import { Artifacts, Description, Json, Plugin, PostProcessInput, Prepared, mergeConfigs, ok, postProcessed } from "../../../../plugins-wasm/sdk/assembly/sdk";
import { Streams } from "../../../../plugins-wasm/sdk/assembly/streams";

export function describe(): i32 {
  const d = new Description("post-processor", "stream-probe", "0.1.0")
    .field("hash", "list(string)")
    .field("compress_to", "string")
    .field("stat", "list(string)")
    .field("read_all", "bool", false, false, "stream every artifact file through the plugin in 4 MiB chunks (the design the host primitives replace)")
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
  if (c.getBool("read_all")) {
    // Touch every byte so the chunks are really used, as a wasm hash would.
    let acc: u32 = 0;
    const files = input.artifact.files;
    for (let i = 0; i < files.length; i++) {
      let off: f64 = 0;
      for (;;) {
        // 1 MiB reads: 4 MiB reads exhaust the 64 MiB memory limit
        // (base64 text, its UTF-16 copy and the decoded bytes per chunk outpace the GC).
        const chunk = Artifacts.read(files[i], off, 1 << 20);
        for (let k = 0; k < chunk.data.length; k++) acc = (acc << 1) ^ chunk.data[k];
        off += chunk.data.length;
        if (chunk.eof || chunk.data.length == 0) break;

      }
    }
    input.artifact.state.setNum("xor", acc);
  }
  return postProcessed(input.artifact, true, false);
}
