// docker-push post-processor (Packer's): pushes the image a docker-tag (or docker-import) artifact
// names to its registry, through the engine that built it, optionally logging in first. The host
// does the pushing (image_push): it checks every name is the input image's, keeps the credentials
// off command lines and out of the user's own login state, and speaks plain HTTP only to loopback
// registries or when `insecure_registry` is set.
import { ArtifactInfo, Description, Json, Plugin, PostProcessInput, Prepared, Ui, fail, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";
import { Images } from "../../sdk/assembly/images";

const IMPORT_ID = "packer.post-processor.docker-import";
const TAG_ID = "packer.post-processor.docker-tag";

export function describe(): i32 {
  const d = new Description("post-processor", "docker-push", "0.1.0")
    .field("login", "bool", false, false, "Log in to login_server before pushing.")
    .field("login_server", "string", false, false, "The registry to log in to.")
    .field("login_username", "string", false, false, "The user name to log in with.")
    .field("login_password", "string", false, false, "The password to log in with (sensitive: never printed).")
    .field("insecure_registry", "bool", false, false, "imgb: push without TLS verification (loopback registries never need it).")
    .field("keep_input_artifact", "bool", false, false, "Accepted; the image is always kept, as by Packer.")
    .field("ecr_login", "bool", false, false, "Not supported.")
    .field("aws_access_key", "string", false, false, "Not supported (ecr_login).")
    .field("aws_secret_key", "string", false, false, "Not supported (ecr_login).")
    .field("aws_token", "string", false, false, "Not supported (ecr_login).")
    .field("aws_profile", "string", false, false, "Not supported (ecr_login).")
    .capability("container_image");
  return ok(d.toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getBool("ecr_login", false) || c.getString("aws_access_key").length > 0 || c.getString("aws_profile").length > 0) {
    p.error("ecr_login is not supported: log in with login_server, login_username and login_password (an ECR token from `aws ecr get-login-password`)");
  }
  if (c.getBool("login", false)) {
    if (c.getString("login_server").length == 0) p.error("login_server must be set when login is true");
    if (c.getString("login_username").length == 0) p.error("login_username must be set when login is true");
  }
  return p.finish(c);
}

/** repository:tag names to push: the artifact's name, and one per docker_tags entry. */
function namesOf(a: ArtifactInfo): Array<string> {
  const names = new Array<string>();
  const id = a.id;
  const slash = id.lastIndexOf("/");
  const colon = id.lastIndexOf(":");
  const repository = colon > slash ? id.substring(0, colon) : id;
  const tags = a.state.getStringList("docker_tags");
  if (tags !== null && tags.length > 0) {
    for (let i = 0; i < tags.length; i++) names.push(repository + ":" + tags[i]);
  } else {
    names.push(id);
  }
  return names;
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const a = input.artifact;
  const c = input.config;
  if (a.builderId != IMPORT_ID && a.builderId != TAG_ID) {
    return fail("Unknown artifact type: " + a.builderId + "\nCan only import from docker-import and docker-tag artifacts.");
  }
  // A committed image has only an id: there is no repository to push it to.
  if (a.id.length == 64 && a.id.indexOf("/") < 0 && a.id.indexOf(":") < 0) {
    return fail("the image " + a.id + " has no name to push: name it with the docker-tag post-processor first (repository = \"registry:port/name\")");
  }
  const names = namesOf(a);
  const login = c.getBool("login", false);
  if (login) Ui.message("Logging in...");
  Images.push(names, c.getString("login_server"), login ? c.getString("login_username") : "", c.getString("login_password"), c.getBool("insecure_registry", false));
  const out = new ArtifactInfo();
  out.builderId = IMPORT_ID;
  out.id = names[names.length - 1];
  out.description = "Imported Docker image: " + out.id;
  out.state = Json.obj().set("docker_tags", a.state.get("docker_tags") !== null ? (a.state.get("docker_tags") as Json) : Json.arr());
  return postProcessed(out, true, true);
}
