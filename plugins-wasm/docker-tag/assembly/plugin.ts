// docker-tag post-processor (Packer's): gives the image a docker builder committed one name per tag
// in `tags` (or the bare repository without tags), through the engine that built it. The result is
// a new image artifact named by the last name given; the input is always kept (Packer forces it:
// deleting the image just tagged is never what anyone wants).
import { ArtifactInfo, Description, Json, Plugin, PostProcessInput, Prepared, Ui, fail, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";
import { Images } from "../../sdk/assembly/images";

const BUILDER_ID = "packer.post-processor.docker-tag";
const DOCKER_IMPORT_ID = "packer.post-processor.docker-import";

export function describe(): i32 {
  const d = new Description("post-processor", "docker-tag", "0.1.0")
    .field("repository", "string", true, false, "The repository of the image.")
    .field("tags", "list(string)", false, false, "Tags for the image (a list, or one comma-separated string).")
    .field("tag", "list(string)", false, false, "Deprecated spelling of tags.")
    .field("force", "bool", false, false, "Accepted; ignored, as by Packer with any engine since Docker 1.12.")
    .capability("container_image");
  return ok(d.toJson());
}

function tagsOf(c: Json): Array<string> {
  const out = new Array<string>();
  const keys = ["tags", "tag"];
  for (let k = 0; k < keys.length; k++) {
    const list = c.getStringList(keys[k]);
    if (list === null) continue;
    // Packer decodes "a,b" into ["a", "b"].
    for (let i = 0; i < list.length; i++) {
      const parts = list[i].split(",");
      for (let j = 0; j < parts.length; j++) if (parts[j].trim().length > 0) out.push(parts[j].trim());
    }
  }
  return out;
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
  if (a.builderId != BUILDER_ID && a.builderId != DOCKER_IMPORT_ID) {
    return fail("Unknown artifact type: " + a.builderId + "\nCan only tag from Docker builder artifacts.");
  }
  const repository = input.config.getString("repository");
  const tags = tagsOf(input.config);
  let last = repository;
  const names = new Array<string>();
  if (tags.length == 0) names.push(repository);
  for (let i = 0; i < tags.length; i++) names.push(repository + ":" + tags[i]);
  for (let i = 0; i < names.length; i++) {
    Ui.message("Tagging image: " + a.id);
    Ui.message("Repository: " + names[i]);
    Images.tag(names[i]);
    last = names[i];
  }
  const out = new ArtifactInfo();
  out.builderId = BUILDER_ID;
  out.id = last;
  out.description = "Imported Docker image: " + last;
  out.state = Json.obj().set("docker_tags", Json.strings(tags));
  return postProcessed(out, true, true);
}
