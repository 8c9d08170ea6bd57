// docker-save post-processor (Packer's): writes the image a docker builder committed (or docker-tag
// named) to a tar at `path` with the engine's `save`. The artifact passes through unchanged and the
// input is kept; the tar is a by-product, as in Packer.
import { Description, Plugin, PostProcessInput, Prepared, Ui, fail, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";
import { Images } from "../../sdk/assembly/images";

const DOCKER_IMPORT_ID = "packer.post-processor.docker-import";
const DOCKER_TAG_ID = "packer.post-processor.docker-tag";

export function describe(): i32 {
  const d = new Description("post-processor", "docker-save", "0.1.0")
    .field("path", "string", true, false, "The file to write the image to (in the working directory or the output folder).")
    .capability("container_image");
  return ok(d.toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("path").length == 0) p.error("path must be specified");
  return p.finish(c);
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const a = input.artifact;
  if (a.builderId != DOCKER_IMPORT_ID && a.builderId != DOCKER_TAG_ID) {
    return fail("Unknown artifact type: " + a.builderId + "\nCan only save Docker builder artifacts.");
  }
  const path = input.config.getString("path");
  Ui.message("Saving image: " + a.id);
  Images.save(path);
  Ui.message("Saved to: " + path);
  return postProcessed(a, true, false);
}
