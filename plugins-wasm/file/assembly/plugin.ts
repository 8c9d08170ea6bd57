// file provisioner: copies files and folders to the machine, or from it (Packer's file provisioner).
// Folder rules are rsync's: "src/" copies the folder's contents into the destination, "src" copies the
// folder itself. Relative local paths are relative to the working directory, as in Packer (the host
// resolves them), and must lie inside the roots the host grants (template folder, working directory).
import { Build, Description, Json, Plugin, Prepared, Temp, Ui, fail, HostCall, mergeConfigs, ok } from "../../sdk/assembly/sdk";
import { Kind, probeLocal } from "./localkind";

export function describe(): i32 {
  // local_file_read: only to tell a file from a folder (and a missing source) before uploading;
  // temp_file: `content` is written to a local temp file and uploaded from there, as Packer does.
  const d = new Description("provisioner", "file", "0.1.0")
    .field("source", "string", false, false, "Local file or folder to upload (remote one for download).")
    .field("sources", "list(string)", false, false, "Several sources; the destination must then end with /.")
    .field("content", "string", false, false, "Text to write to the destination instead of a source.")
    .field("destination", "string", false, false, "Where the file goes (a folder when it ends with /).")
    .field("direction", "string", false, false, "upload (default) or download.")
    .field("generated", "bool", false, false, "The source is made during the build.")
    .capability("communicator")
    .capability("local_file_read")
    .capability("temp_file");
  return ok(d.toJson());
}

function sourcesOf(c: Json): Array<string> {
  let list = c.getStringList("sources");
  if (list === null) list = new Array<string>();
  // Packer appends `source` after `sources`.
  const one = c.getString("source");
  if (one.length > 0) list.push(one);
  return list;
}

export function prepare(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("direction").length == 0) c.setStr("direction", "upload");
  const direction = c.getString("direction");
  if (direction != "upload" && direction != "download") p.error("Direction must be one of: download, upload. (direction = \"" + direction + "\")");
  // `sources = fileset(...)` may match nothing: Packer (>= 1.7.10) then copies nothing. Only a block
  // that names no source at all is a mistake.
  const sourcesGiven = c.has("sources");
  const sources = sourcesOf(c);
  c.set("sources", Json.strings(sources));
  const hasContent = c.getString("content").length > 0;
  if (sources.length > 0 && hasContent) p.error("source(s) conflicts with content.");
  if (sources.length == 0 && !hasContent && !sourcesGiven) p.error("Source must be specified (set source, sources or content).");
  if (hasContent && direction == "download") p.error("content can only be uploaded: remove content or set direction = \"upload\".");
  if (c.getString("destination").length == 0) p.error("Destination must be specified (destination).");
  return p.finish(c);
}

function baseName(path: string): string {
  let p = path;
  while (p.length > 1 && p.endsWith("/")) p = p.substring(0, p.length - 1);
  const slash = p.lastIndexOf("/");
  return slash >= 0 ? p.substring(slash + 1) : p;
}

/** "" or the host's error for a communicator call. */
function errorOf(reply: Json): string {
  return reply.has("error") ? reply.getString("error") : "";
}

function uploadFile(dest: string, localPath: string): string {
  return errorOf(HostCall.comm_upload(Json.obj().setStr("dest", dest).set("src", Json.obj().setStr("path", localPath)), true));
}

function upload(c: Json): string {
  const dst = c.getString("destination");
  const content = c.getString("content");
  if (content.length > 0) {
    const tmp = Temp.file("pkr-file-content", content, 0o644);
    Ui.say("Uploading " + tmp + " => " + dst);
    const err = uploadFile(dst.endsWith("/") ? dst + "pkr-file-content" : dst, tmp);
    if (err.length > 0) {
      Ui.error("Upload failed: " + err);
      return err;
    }
    return "";
  }
  const sources = c.getStringList("sources")!;
  const generated = c.getBool("generated");
  // Packer checks the sources at prepare time unless `generated`; prepare may not touch files here,
  // so every source is checked before the first upload instead.
  const kinds = new Array<Kind>();
  for (let i = 0; i < sources.length; i++) {
    if (generated) {
      kinds.push(Kind.Missing);
      continue;
    }
    const probe = probeLocal(sources[i]);
    if (probe.kind == Kind.Missing) return "Bad source '" + sources[i] + "': " + probe.reason;
    kinds.push(probe.kind);
  }
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i];
    Ui.say("Uploading " + src + " => " + dst);
    let kind = kinds[i];
    if (generated) {
      const probe = probeLocal(src);
      if (probe.kind == Kind.Missing) return "Bad source '" + src + "': " + probe.reason;
      kind = probe.kind;
    }
    let err = "";
    if (kind == Kind.Dir) err = errorOf(HostCall.comm_upload_dir(Json.obj().setStr("dest", dst).setStr("src", src).set("exclude", Json.arr()), true));
    else err = uploadFile(dst.endsWith("/") ? dst + baseName(src) : dst, src);
    if (err.length > 0) {
      Ui.error("Upload failed: " + err);
      return err;
    }
  }
  return "";
}

function hasGlob(s: string): bool {
  return s.includes("*") || s.includes("?") || s.includes("[");
}

function download(c: Json): string {
  const dst = c.getString("destination");
  const sources = c.getStringList("sources")!;
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i];
    Ui.say("Downloading " + src + " => " + dst);
    let target = dst;
    if (dst.endsWith("/") && !src.endsWith("/") && !src.endsWith("*")) target = dst + baseName(src);
    let err = "";
    if (src.endsWith("/") || hasGlob(src)) {
      err = errorOf(HostCall.comm_download_dir(Json.obj().setStr("src", src).setStr("dest", target).set("exclude", Json.arr()), true));
    } else {
      err = errorOf(HostCall.comm_download(Json.obj().setStr("src", src).set("dest", Json.obj().setStr("path", target)), true));
    }
    if (err.length > 0) {
      Ui.error("Download failed: " + err);
      return err;
    }
  }
  return "";
}

export function provision(): i32 {
  const c = new Build(Plugin.input()).config;
  const err = c.getString("direction") == "download" ? download(c) : upload(c);
  if (err.length > 0) return fail(err);
  return ok(Json.obj());
}
