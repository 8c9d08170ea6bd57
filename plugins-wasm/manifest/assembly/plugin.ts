// manifest post-processor (Packer's): records each build's artifact in a JSON file
// (packer-manifest.json), appending to what earlier builds and runs wrote. With -force, a file
// left by another run (different last_run_uuid) starts over; builds of the same run still append.
// Parallel builds update the same file: read, add the entry, then compare-and-swap under the
// file's lock on the host (output_file_swap), retrying when another build wrote in between.
import { Build, Description, Json, JsonKind, Plugin, PostProcessInput, Prepared, Template, mergeConfigs, ok, parseJson, postProcessed, sortedStrings, utf8, fail } from "../../sdk/assembly/sdk";
import { Streams } from "../../sdk/assembly/streams";
import { marshalIndent } from "./gojson";

const DEFAULT_OUTPUT = "packer-manifest.json";
const MAX_ATTEMPTS = 200;

export function describe(): i32 {
  const d = new Description("post-processor", "manifest", "0.1.0")
    .field("output", "string", false, false, "manifest file (default packer-manifest.json)")
    .field("strip_path", "bool", false, false, "record only file names, without their folders")
    .field("strip_time", "bool", false, false, "leave build_time out")
    .field("custom_data", "map(string)", false, false, "extra data recorded with the build")
    .capability("artifact_read")
    .capability("artifact_write");
  return ok(d.toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("output").length == 0) c.setStr("output", DEFAULT_OUTPUT);
  return p.finish(c);
}

function basename(path: string): string {
  const slash = path.lastIndexOf("/");
  return path.substring(slash + 1);
}

/** Custom data as Go encodes a map[string]string: keys sorted, or null when unset. */
function customData(c: Json, build: Build): Json {
  const cd = c.get("custom_data");
  if (cd === null || cd.kind != JsonKind.Object) return Json.null();
  const data = build.generated;
  const out = Json.obj();
  const keys = sortedStrings(cd.keys);
  for (let i = 0; i < keys.length; i++) {
    const v = cd.values.get(keys[i]);
    const s = v.kind == JsonKind.String ? v.s : v.stringify();
    out.setStr(keys[i], s.includes("{{") ? Template.render(s, data) : s);
  }
  return out;
}

/** One build entry in Packer's field order (Go struct order; build_time omitted when 0). */
function entry(name: string, builderType: string, buildTime: f64, files: Json, artifactId: string, runUuid: string, custom: Json): Json {
  const e = Json.obj().setStr("name", name).setStr("builder_type", builderType);
  if (buildTime != 0) e.setNum("build_time", buildTime);
  return e.set("files", files).setStr("artifact_id", artifactId).setStr("packer_run_uuid", runUuid).set("custom_data", custom);
}

/** An entry read back from the file, normalised as Go's decode-then-encode would. */
function normalise(b: Json): Json {
  let files = Json.null();
  const f = b.get("files");
  if (f !== null && f.kind == JsonKind.Array) {
    files = Json.arr();
    for (let i = 0; i < f.items.length; i++) {
      const x = f.items[i];
      files.push(Json.obj().setStr("name", x.getString("name")).setNum("size", x.getNumber("size")));
    }
  }
  let custom = Json.null();
  const cd = b.get("custom_data");
  if (cd !== null && cd.kind == JsonKind.Object) {
    custom = Json.obj();
    const keys = sortedStrings(cd.keys);
    for (let i = 0; i < keys.length; i++) custom.setStr(keys[i], cd.getString(keys[i]));
  }
  return entry(b.getString("name"), b.getString("builder_type"), b.getNumber("build_time"), files, b.getString("artifact_id"), b.getString("packer_run_uuid"), custom);
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const c = input.config;
  const output = c.getString("output");
  const artifact = input.artifact;
  const build = input.input.get("build");
  const force = build !== null && build.getBool("force");
  let runUuid = build !== null ? build.getString("run_uuid") : "";
  if (runUuid.length == 0) runUuid = input.generated.getString("PackerRunUUID");

  let files = Json.null();
  if (artifact.files.length > 0) {
    files = Json.arr();
    const stats = Streams.statFiles(artifact.files);
    const strip = c.getBool("strip_path");
    for (let i = 0; i < stats.length; i++) {
      const name = strip ? basename(artifact.files[i]) : artifact.files[i];
      files.push(Json.obj().setStr("name", name).setNum("size", stats[i].exists ? stats[i].size : 0));
    }
  }
  const custom = customData(c, input);

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = Streams.readOutputFile(output);
    const builds = Json.arr();
    let lastRun = "";
    if (current.data.length > 0) {
      const parsed = parseJson(String.UTF8.decode(current.data.buffer));
      if (!parsed.ok) return fail("Unable to parse content from " + output + ": " + parsed.error);
      const old = parsed.value.get("builds");
      if (old !== null && old.kind == JsonKind.Array) {
        for (let i = 0; i < old.items.length; i++) builds.push(normalise(old.items[i]));
      }
      lastRun = parsed.value.getString("last_run_uuid");
    }
    // -force truncates a manifest from another run; builds of this run keep appending.
    const fresh = force && runUuid != lastRun;
    const list = fresh ? Json.arr() : builds;
    const buildTime = c.getBool("strip_time") ? 0 : current.nowUnix;
    list.push(entry(input.sourceName, input.builderType, buildTime, files, artifact.id, runUuid, custom));
    const doc = Json.obj().set("builds", list).setStr("last_run_uuid", runUuid);
    if (Streams.swapOutputFile(output, current.sha256, utf8(marshalIndent(doc)), 0o664)) {
      // Never delete the artifact just recorded: keep it whatever keep_input_artifact says.
      return postProcessed(artifact, true, true);
    }
  }
  return fail("Unable to write " + output + ": other builds kept changing it");
}
