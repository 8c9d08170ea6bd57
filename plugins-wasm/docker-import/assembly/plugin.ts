// docker-import post-processor (Packer's): imports the filesystem tar a docker builder exported (or
// artifice names) as image `repository[:tag]`, with Dockerfile-style `changes`, through the engine
// that exported it. The input tar is not kept unless keep_input_artifact says so (Packer's rule).
import { ArtifactInfo, Description, Json, Plugin, PostProcessInput, Prepared, Ui, fail, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";
import { Images } from "../../sdk/assembly/images";

const BUILDER_ID = "packer.post-processor.docker-import";
const DOCKER_BUILDER_ID = "packer.docker";
const ARTIFICE_ID = "packer.post-processor.artifice";

export function describe(): i32 {
  const d = new Description("post-processor", "docker-import", "0.1.0")
    .field("repository", "string", true, false, "The repository of the imported image.")
    .field("tag", "string", false, false, "The tag of the imported image.")
    .field("changes", "list(string)", false, false, "Dockerfile instructions for the image (CMD, ENTRYPOINT, ENV, EXPOSE, ...).")
    .capability("container_image");
  return ok(d.toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("repository").length == 0) p.error("repository must be specified");
  return p.finish(c);
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const a = input.artifact;
  if (a.builderId != DOCKER_BUILDER_ID && a.builderId != ARTIFICE_ID) {
    return fail("Unknown artifact type: " + a.builderId + "\nCan only import from Docker builder and Artifice post-processor artifacts.");
  }
  if (a.files.length == 0) return fail("the artifact has no file to import");
  let ref = input.config.getString("repository");
  const tag = input.config.getString("tag");
  if (tag.length > 0) ref += ":" + tag;
  const changes = input.config.getStringList("changes");
  Ui.message("Importing image: " + a.id);
  Ui.message("Repository: " + ref);
  const id = Images.importFile(a.files[0], ref, changes === null ? new Array<string>() : changes);
  Ui.message("Imported ID: " + id);
  const out = new ArtifactInfo();
  out.builderId = BUILDER_ID;
  out.id = ref;
  out.description = "Imported Docker image: " + ref;
  out.state = Json.obj();
  return postProcessed(out, false, false);
}
