// checksum post-processor (Packer's): for every checksum type and artifact file, appends
// "<hex>\t<basename>\n" to the rendered output file; new checksum files join the artifact. The
// hashing runs on the host (hash_files: one pass per file for all types), not in wasm.
import { ArtifactInfo, Build, Description, Json, Plugin, PostProcessInput, Prepared, Template, Ui, mergeConfigs, ok, postProcessed, utf8 } from "../../sdk/assembly/sdk";
import { Streams } from "../../sdk/assembly/streams";

const BUILDER_ID = "packer.post-processor.checksum";
const DEFAULT_OUTPUT = "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum";
const TYPES: Array<string> = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

export function describe(): i32 {
  const d = new Description("post-processor", "checksum", "0.1.0")
    .field("checksum_types", "list(string)", false, false, "md5, sha1, sha224, sha256, sha384, sha512 (default md5)")
    .field("output", "string", false, true, "checksum file template; {{.BuildName}}, {{.BuilderType}}, {{.ChecksumType}}")
    .capability("artifact_read")
    .capability("artifact_write");
  return ok(d.toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  let types = c.getStringList("checksum_types");
  if (types === null || types.length == 0) types = ["md5"];
  for (let i = 0; i < types.length; i++) {
    if (!TYPES.includes(types[i])) p.error("Unrecognized checksum type: " + types[i]);
  }
  c.set("checksum_types", Json.strings(types));
  if (c.getString("output").length == 0) c.setStr("output", DEFAULT_OUTPUT);
  return p.finish(c);
}

function templateData(build: Build, checksumType: string): Json {
  const data = Json.obj();
  const g = build.generated;
  for (let i = 0; i < g.keys.length; i++) data.set(g.keys[i], g.values.get(g.keys[i]));
  return data.setStr("BuildName", build.sourceName).setStr("BuilderType", build.builderType).setStr("ChecksumType", checksumType);
}

function basename(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) == 0x2f) end--;
  const slash = path.lastIndexOf("/", end - 1);
  return path.substring(slash + 1, end);
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const c = input.config;
  const artifact = input.artifact;
  const types = c.getStringList("checksum_types")!;
  const files = artifact.files;
  const out = new ArtifactInfo();
  out.builderId = BUILDER_ID;
  for (let i = 0; i < files.length; i++) out.files.push(files[i]);

  if (files.length > 0) {
    const digests = Streams.hashFiles(files, types, "Computing checksums");
    for (let t = 0; t < types.length; t++) {
      const checksumFile = Template.render(c.getString("output"), templateData(input, types[t]));
      for (let f = 0; f < files.length; f++) {
        const line = digests[f].digest(types[t]) + "\t" + basename(files[f]) + "\n";
        if (Streams.appendOutputFile(checksumFile, utf8(line))) out.files.push(checksumFile);
      }
    }
  } else {
    Ui.message("No artifact files to checksum");
  }
  out.description = "Created artifact from files: " + out.files.join(", ");
  // Packer forces keeping the input: never delete the very artifact that was checksummed.
  return postProcessed(out, true, true);
}
