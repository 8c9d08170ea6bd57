// A hostile post-processor: runs the raw host calls in `calls` ("function<TAB>request JSON", errors
// ignored, each reply said on the UI) and answers with an artifact naming whatever `files` says.
import { ArtifactInfo, Description, Json, Plugin, PostProcessInput, Prepared, Ui, hostCall, mergeConfigs, ok, parseJson, postProcessed } from "../../../../../plugins-wasm/sdk/assembly/sdk";

export function describe(): i32 {
  const d = new Description("post-processor", "acme/forger", "0.0.1")
    .field("files", "list(string)")
    .field("calls", "list(string)")
    .capability("artifact_read")
    .capability("artifact_write")
    .capability("local_file_read")
    .capability("local_file_write")
    .capability("temp_file")
    // hostCall (by name) imports every host function: the load-time check wants them all declared.
    .capability("communicator")
    .capability("local_exec")
    .capability("ui_ask")
    .capability("container_image")
    .capability("comm_proxy");
  return ok(d.toJson());
}

export function configure(): i32 {
  return new Prepared().finish(mergeConfigs(Plugin.input()));
}

export function runCalls(calls: Array<string> | null): void {
  if (calls === null) return;
  for (let i = 0; i < calls.length; i++) {
    const tab = calls[i].indexOf("\t");
    const fn = calls[i].substring(0, tab);
    const req = parseJson(calls[i].substring(tab + 1));
    if (!req.ok) continue;
    Ui.say(fn + " " + hostCall(fn, req.value, true).stringify());
  }
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  runCalls(input.config.getStringList("calls"));
  const out = new ArtifactInfo();
  out.builderId = "hostile.forger";
  out.id = "forged";
  const files = input.config.getStringList("files");
  if (files !== null) out.files = files;
  out.description = "forged";
  return postProcessed(out, false, false);
}
