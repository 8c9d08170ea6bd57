// artifice post-processor (Packer's): replaces the artifact's files with `files` (glob patterns,
// Go filepath.Glob rules), which must exist. The old files are not deleted by artifice itself.
import { ArtifactInfo, Description, Plugin, PostProcessInput, Prepared, Ui, fail, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";
import { Streams } from "../../sdk/assembly/streams";

const BUILDER_ID = "packer.post-processor.artifice";

export function describe(): i32 {
  const d = new Description("post-processor", "artifice", "0.1.0")
    .field("files", "list(string)", false, false, "files (glob patterns) that make up the new artifact")
    .capability("artifact_read");
  return ok(d.toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  const files = c.getStringList("files");
  if (files === null || files.length == 0) p.error("No files specified in artifice configuration");
  return p.finish(c);
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const old = input.artifact;
  if (old.files.length > 0) Ui.say("Discarding files from artifact: " + old.files.join(", "));
  const patterns = input.config.getStringList("files")!;
  const matches = Streams.statFiles(patterns, true);
  const out = new ArtifactInfo();
  out.builderId = BUILDER_ID;
  for (let i = 0; i < matches.length; i++) {
    if (!matches[i].exists) return fail("stat " + matches[i].path + ": no such file or directory");
    out.files.push(matches[i].path);
  }
  Ui.say("Using these artifact files: " + out.files.join(", "));
  out.description = "Created artifact from files: " + out.files.join(", ");
  return postProcessed(out, true, false);
}
