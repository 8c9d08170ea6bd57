// compress post-processor (Packer's): archives (tar, zip) and/or compresses (gzip, zstd, xz, lz4)
// the artifact's files into one file named by `output`. The format comes from the output's
// extension (or `format`) as Packer detects it; unknown extensions mean tar.gz without renaming.
// The bytes are moved by the host (compress_files: streaming, parallel gzip/zstd), never through wasm.
import { ArtifactInfo, Build, Description, Json, Plugin, PostProcessInput, Prepared, Template, Ui, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";
import { Streams } from "../../sdk/assembly/streams";

const BUILDER_ID = "packer.post-processor.compress";
const DEFAULT_OUTPUT = "packer_{{.BuildName}}_{{.BuilderType}}";

export function describe(): i32 {
  const d = new Description("post-processor", "compress", "0.1.0")
    .field("output", "string", false, true, "archive path template; {{.BuildName}}, {{.BuilderType}}")
    .field("format", "string", false, false, "archive format instead of the output's extension: tar, zip, gz, tar.gz, tgz, zst, tar.zst, xz, tar.xz, lz4, tar.lz4")
    .field("compression_level", "number", false, false, "1 (fast) to 9 (small); default 6")
    .capability("artifact_read")
    .capability("artifact_write");
  return ok(d.toJson());
}

/** What Packer's detectFromFilename decides: an archive (tar, zip, none) and a compression. */
class Format {
  archive: string = "none";
  compression: string = "none";
  detected: bool = true;
  unsupported: string = "";
}

function isExt(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

/** Packer's regexp `^.+?(?:\.([a-z0-9]+))?\.([a-z0-9]+)$`: the last two extensions. */
function extensions(name: string): Array<string> {
  const slash = name.lastIndexOf("/");
  const base = name.substring(slash + 1);
  const parts = base.split(".");
  const out: Array<string> = ["", ""];
  if (parts.length >= 2 && parts[0].length + (parts.length > 2 ? 1 : 0) > 0 && isExt(parts[parts.length - 1])) {
    out[1] = parts[parts.length - 1];
    if (parts.length >= 3 && isExt(parts[parts.length - 2])) out[0] = parts[parts.length - 2];
  }
  return out;
}

function compressionOf(ext: string): string {
  if (ext == "gz") return "gzip";
  if (ext == "zst") return "zstd";
  if (ext == "xz") return "xz";
  if (ext == "lz4") return "lz4";
  return "";
}

export function detectFormat(output: string, format: string): Format {
  const f = new Format();
  const ext = extensions(format.length > 0 ? output + "." + format : output);
  if (ext[1] == "bgzf") {
    f.unsupported = "bgzf";
    return f;
  }
  if (ext[1] == "tgz") {
    f.archive = "tar";
    f.compression = "gzip";
    return f;
  }
  if (ext[0] == "tar") f.archive = "tar";
  if (ext[1] == "zip" || ext[1] == "tar") {
    f.archive = ext[1];
    return f;
  }
  const c = compressionOf(ext[1]);
  if (c.length > 0) {
    f.compression = c;
    return f;
  }
  // Nothing recognised: tar.gz, and the file name stays as it is.
  f.archive = "tar";
  f.compression = "gzip";
  f.detected = false;
  return f;
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("output").length == 0) c.setStr("output", DEFAULT_OUTPUT);
  // As Packer: 0 (or unset) and -1 mean the default, 6; above 9 is 9; below -1 is an error.
  let level = c.getNumber("compression_level", 0);
  if (level == 0 || level == -1) level = 6;
  if (level < -1) p.error("Invalid compression level. Expected an integer from -1 to 9.");
  if (level > 9) level = 9;
  c.setNum("compression_level", level);
  const format = c.getString("format");
  const f = detectFormat(format.length > 0 ? "archive" : c.getString("output"), format);
  if (f.unsupported.length > 0) p.error("compression format " + f.unsupported + " is not supported by imgb");
  return p.finish(c);
}

function templateData(build: Build): Json {
  const data = Json.obj();
  const g = build.generated;
  for (let i = 0; i < g.keys.length; i++) data.set(g.keys[i], g.values.get(g.keys[i]));
  return data.setStr("BuildName", build.sourceName).setStr("BuilderType", build.builderType);
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const c = input.config;
  const target = Template.render(c.getString("output"), templateData(input));
  const f = detectFormat(target, c.getString("format"));
  const level = i32(c.getNumber("compression_level", 6));
  const files = input.artifact.files;
  // Packer's words: its gzip writer is "pgzip", and "no compression" for plain tar/zip.
  const compression = f.compression == "none" ? "no compression" : f.compression == "gzip" ? "pgzip" : f.compression;

  if (f.compression != "none") Ui.say("Using " + compression + " compression for " + target);
  if (f.archive == "tar") Ui.say("Tarring " + target + " with " + compression);
  else if (f.archive == "zip") Ui.say("Zipping " + target);
  else if (files.length == 1) Ui.say("Archiving " + files[0] + " with " + compression);
  Streams.compressFiles(files, target, f.archive, f.archive == "zip" ? "none" : f.compression, level, "Compressing " + target);
  Ui.say("Archive " + target + " completed");

  const out = new ArtifactInfo();
  out.builderId = BUILDER_ID;
  out.files.push(target);
  out.description = "compressed artifacts in: " + target;
  // Packer's compress deletes its input unless keep_input_artifact (the engine applies the user's choice).
  return postProcessed(out, false, false);
}
