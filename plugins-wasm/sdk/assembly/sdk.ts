// The imgb plugin SDK (ABI imgb-plugin/1, docs/plugin-abi.md): everything a plugin author imports.
//   import { Json, Plugin, Ui, Local, Comm, Temp, Template, fail, ok } from "../../sdk/assembly/sdk";
// Exports of a plugin are `() -> i32` functions: read the input with `Plugin.input()`, answer with
// `ok(json)` / `fail(message)`.
import { Json, JsonKind, parseJson, quote } from "./json";
import { base64Decode, base64Encode, utf8 } from "./base64";
import { emptyRequest, fail as failHard, inputBytes, outputBytes, replyNumber, reportBeforeTrap, setError } from "./host";
import { artifact_close, artifact_pread, artifact_pwrite, host_now } from "./externals";
import { HostCall } from "./calls";

export { Json, JsonKind, parseJson, quote } from "./json";
export { base64Decode, base64Encode, utf8 } from "./base64";
export { HostCall, hostCall } from "./calls";

export const ABI = "imgb-plugin/1";

/** Writes a JSON answer (as UTF-8 bytes) and returns the success code for the export. */
export function ok(value: Json): i32 {
  outputBytes(utf8(value.stringify()));
  return 0;
}

/** Reports an error for this call and returns the failure code for the export. */
export function fail(message: string): i32 {
  setError(message);
  return 1;
}

/** Stops the plugin at once with an error (for helpers deep in a call). Never returns. */
export function abortWith(message: string): void {
  failHard(message);
}

/** The `--use abort=...` target every plugin is compiled with: keeps AssemblyScript's message. */
export function pluginAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  const msg = message === null ? "abort" : message;
  const where = fileName === null ? "" : " (" + fileName + ":" + line.toString() + ":" + column.toString() + ")";
  setError("plugin aborted: " + msg + where);
  reportBeforeTrap("plugin aborted: " + msg + where);
  unreachable();
}

export class Plugin {
  /** The call's input as JSON (an empty input is an empty object). */
  static input(): Json {
    const text = String.UTF8.decode(inputBytes().buffer);
    if (text.length == 0) return Json.obj();
    const parsed = parseJson(text);
    if (!parsed.ok) failHard("input is not JSON: " + parsed.error);
    return parsed.value;
  }
}

/** Builds the `describe` answer. */
export class Description {
  fields: Json = Json.arr();
  caps: Array<string> = new Array<string>();
  allowUnknown: bool = false;

  constructor(
    public kind: string,
    public name: string,
    public version: string,
  ) {}

  field(name: string, type: string, required: bool = false, late: bool = false, description: string = ""): Description {
    const f = Json.obj().setStr("name", name).setStr("type", type);
    if (required) f.setBool("required", true);
    if (late) f.setBool("late", true);
    if (description.length > 0) f.setStr("description", description);
    this.fields.push(f);
    return this;
  }

  fieldWithDefault(name: string, type: string, value: Json): Description {
    this.fields.push(Json.obj().setStr("name", name).setStr("type", type).set("default", value));
    return this;
  }

  capability(name: string): Description {
    this.caps.push(name);
    return this;
  }

  toJson(): Json {
    const schema = Json.obj().set("fields", this.fields);
    if (this.allowUnknown) schema.setBool("allow_unknown", true);
    return Json.obj()
      .setStr("kind", this.kind)
      .setStr("name", this.name)
      .setStr("abi", ABI)
      .setStr("version", this.version)
      .set("schema", schema)
      .set("capabilities", Json.strings(this.caps));
  }
}

/** Shallow merge of `configs` from a prepare/configure input: later keys win (Packer's merge of config + override). */
export function mergeConfigs(input: Json): Json {
  const out = Json.obj();
  const list = input.get("configs");
  if (list === null || list.kind != JsonKind.Array) return out;
  for (let i = 0; i < list.items.length; i++) {
    const c = list.items[i];
    if (c.kind != JsonKind.Object) continue;
    for (let k = 0; k < c.keys.length; k++) out.set(c.keys[k], c.values.get(c.keys[k]));
  }
  return out;
}

/** Collects prepare errors and warnings, then answers in the PrepareOutput shape. */
export class Prepared {
  errors: Array<string> = new Array<string>();
  warnings: Array<string> = new Array<string>();

  error(message: string): void {
    this.errors.push(message);
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
  /** Answers {config, warnings} or {errors, warnings}. */
  finish(config: Json): i32 {
    const out = Json.obj();
    if (this.errors.length > 0) out.set("errors", Json.strings(this.errors));
    else out.set("config", config);
    out.set("warnings", Json.strings(this.warnings));
    return ok(out);
  }
}

/** The build facts a provision/post_process input carries. */
export class Build {
  constructor(public input: Json) {}
  private b(): Json {
    const b = this.input.get("build");
    return b === null ? Json.obj() : b;
  }
  get name(): string {
    return this.b().getString("name");
  }
  get sourceName(): string {
    return this.b().getString("source_name");
  }
  get builderType(): string {
    return this.b().getString("builder_type");
  }
  get generated(): Json {
    const g = this.b().get("generated");
    return g === null ? Json.obj() : g;
  }
  get templateDir(): string {
    return this.input.getString("template_dir");
  }
  get hostOs(): string {
    return this.input.getString("host_os", "linux");
  }
  get config(): Json {
    const c = this.input.get("config");
    return c === null ? Json.obj() : c;
  }
}

/** An artifact as JSON crosses the ABI (Packer's Artifact: BuilderId, Id, Files, String, State). */
export class ArtifactInfo {
  builderId: string = "";
  id: string = "";
  files: Array<string> = new Array<string>();
  description: string = "";
  state: Json = Json.obj();

  static from(j: Json | null): ArtifactInfo {
    const a = new ArtifactInfo();
    if (j === null) return a;
    a.builderId = j.getString("builder_id");
    a.id = j.getString("id");
    const files = j.getStringList("files");
    if (files !== null) a.files = files;
    a.description = j.getString("string");
    const state = j.getObject("state");
    if (state !== null) a.state = state;
    return a;
  }

  toJson(): Json {
    return Json.obj()
      .setStr("builder_id", this.builderId)
      .setStr("id", this.id)
      .set("files", Json.strings(this.files))
      .setStr("string", this.description)
      .set("state", this.state);
  }
}

/** What post_process receives: the Build facts plus the input artifact and the output folder. */
export class PostProcessInput extends Build {
  get artifact(): ArtifactInfo {
    return ArtifactInfo.from(this.input.get("artifact"));
  }
  get outputDir(): string {
    return this.input.getString("output_dir");
  }
}

/** Answers post_process: the new artifact, keep (the input artifact), force_override (Packer semantics). */
export function postProcessed(artifact: ArtifactInfo, keep: bool, forceOverride: bool = false): i32 {
  return ok(Json.obj().set("artifact", artifact.toJson()).setBool("keep", keep).setBool("force_override", forceOverride));
}

/** One chunk of a file read (at most 4 MiB a call). */
export class FileChunk {
  data: Uint8Array = new Uint8Array(0);
  eof: bool = true;
  size: f64 = 0;
}

function chunkFrom(reply: Json): FileChunk {
  const c = new FileChunk();
  c.data = base64Decode(reply.getString("data_base64"));
  c.eof = reply.getBool("eof", true);
  c.size = reply.getNumber("size");
  return c;
}

/**
 * Files of the input artifact (capability artifact_read) and of the output folder (artifact_write).
 * Read in chunks: `for (let off = 0.0; ; ) { const c = Artifacts.read(p, off); ...; off += c.data.length; if (c.eof) break; }`
 */
export class Artifacts {
  static read(path: string, offset: f64 = 0, length: i32 = 4 << 20): FileChunk {
    return chunkFrom(HostCall.artifact_read(Json.obj().setStr("path", path).setNum("offset", offset).setNum("length", length)));
  }
  static write(path: string, data: Uint8Array, append: bool = false, mode: i32 = -1): void {
    const req = Json.obj().setStr("path", path).setStr("data_base64", base64Encode(data)).setBool("append", append);
    if (mode >= 0) req.setNum("mode", mode);
    HostCall.artifact_write(req);
  }
}

/**
 * An open file of the input artifact (artifact_read) or the output folder (artifact_write): bytes move
 * between the file and this plugin's memory with one host call per chunk, no JSON, no base64.
 *   const f = ArtifactFile.open(path); const buf = new Uint8Array(1 << 20);
 *   for (let off: u64 = 0; ; ) { const n = f.read(off, buf); if (n == 0) break; ...; off += n; }
 */
export class ArtifactFile {
  constructor(public handle: u64, public size: f64, public path: string) {}
  static open(path: string): ArtifactFile {
    const r = HostCall.artifact_open(Json.obj().setStr("path", path));
    return new ArtifactFile(u64(r.getNumber("handle")), r.getNumber("size"), r.getString("path"));
  }
  /** Creates (or truncates; `append` keeps) a file in the output folder. */
  static create(path: string, append: bool = false, mode: i32 = 0o644): ArtifactFile {
    const r = HostCall.artifact_create(Json.obj().setStr("path", path).setBool("append", append).setNum("mode", mode));
    return new ArtifactFile(u64(r.getNumber("handle")), r.getNumber("size"), r.getString("path"));
  }
  /** Reads up to buf.length bytes at `offset` into `buf`; returns the count (0 at the end). */
  read(offset: u64, buf: Uint8Array): u64 {
    return u64(artifact_pread(this.handle, offset, buf.dataStart, u64(buf.length)));
  }
  /** Writes all of `data` at `offset`. */
  write(offset: u64, data: Uint8Array): void {
    artifact_pwrite(this.handle, offset, data.dataStart, u64(data.length));
  }
  close(): void {
    artifact_close(this.handle);
  }
}

export class Ui {
  static say(message: string): void {
    HostCall.ui_say(Json.obj().setStr("message", message));
  }
  static message(message: string): void {
    HostCall.ui_message(Json.obj().setStr("message", message));
  }
  static error(message: string): void {
    HostCall.ui_error(Json.obj().setStr("message", message));
  }
  static ask(query: string): string {
    return HostCall.ui_ask(Json.obj().setStr("query", query)).getString("answer");
  }
}

/** Result of a command: an exit status, or a dropped connection (Packer's "disconnected"). */
export class CommandResult {
  exitStatus: i32 = -1;
  disconnected: bool = false;
  reason: string = "";
  stdout: string = "";
  stderr: string = "";

  static from(reply: Json): CommandResult {
    const r = new CommandResult();
    if (reply.has("disconnected")) {
      r.disconnected = true;
      r.reason = reply.getString("disconnected");
    } else {
      r.exitStatus = i32(reply.getNumber("exit_status", -1));
    }
    r.stdout = reply.getString("stdout");
    r.stderr = reply.getString("stderr");
    return r;
  }
}

/** The build's communicator (capability "communicator"). Output "ui" streams lines to the UI. */
export class Comm {
  static start(command: string, streamToUi: bool = true): CommandResult {
    const req = Json.obj().setStr("command", command).setStr("output", streamToUi ? "ui" : "return");
    return CommandResult.from(HostCall.comm_start(req));
  }
  static uploadBytes(dest: string, data: Uint8Array, mode: i32 = 0o644): void {
    const src = Json.obj().setStr("data_base64", base64Encode(data));
    HostCall.comm_upload(Json.obj().setStr("dest", dest).set("src", src).setNum("mode", mode));
  }
  /** Upload a local file (inside a granted root); mode < 0 keeps the file's own mode. */
  static uploadFile(dest: string, localPath: string, mode: i32 = -1): void {
    const req = Json.obj().setStr("dest", dest).set("src", Json.obj().setStr("path", localPath));
    if (mode >= 0) req.setNum("mode", mode);
    HostCall.comm_upload(req);
  }
  static uploadDir(dest: string, localDir: string, exclude: Array<string>): void {
    HostCall.comm_upload_dir(Json.obj().setStr("dest", dest).setStr("src", localDir).set("exclude", Json.strings(exclude)));
  }
  static downloadBytes(src: string): Uint8Array {
    const reply = HostCall.comm_download(Json.obj().setStr("src", src).set("dest", Json.obj().setBool("return", true)));
    return base64Decode(reply.getString("data_base64"));
  }
  static downloadFile(src: string, localPath: string): void {
    HostCall.comm_download(Json.obj().setStr("src", src).set("dest", Json.obj().setStr("path", localPath)));
  }
  static downloadDir(src: string, localDir: string, exclude: Array<string>): void {
    HostCall.comm_download_dir(Json.obj().setStr("src", src).setStr("dest", localDir).set("exclude", Json.strings(exclude)));
  }
}

/** Local commands on the imgb host (capability "local_exec"); run in their own process group. */
export class Local {
  /** argv[0] is the program; env adds variables to imgb's environment (a Json object of strings, or null). */
  static exec(argv: Array<string>, env: Json | null = null, streamToUi: bool = true, cwd: string = ""): CommandResult {
    const req = Json.obj().set("argv", Json.strings(argv)).setStr("output", streamToUi ? "ui" : "return");
    if (env !== null) req.set("env", env);
    if (cwd.length > 0) req.setStr("cwd", cwd);
    return CommandResult.from(HostCall.local_exec(req));
  }
  /** Reads a whole (small) file; use readChunk for files over 4 MiB. */
  static readFile(path: string): Uint8Array {
    return base64Decode(HostCall.local_file_read(Json.obj().setStr("path", path)).getString("data_base64"));
  }
  static readChunk(path: string, offset: f64, length: i32 = 4 << 20): FileChunk {
    return chunkFrom(HostCall.local_file_read(Json.obj().setStr("path", path).setNum("offset", offset).setNum("length", length)));
  }
  static writeFile(path: string, data: Uint8Array, append: bool = false): void {
    HostCall.local_file_write(Json.obj().setStr("path", path).setStr("data_base64", base64Encode(data)).setBool("append", append));
  }
}

/** Temporary files (capability "temp_file"): created by the host, removed when the call ends. */
export class Temp {
  /** Creates `<tmpdir>/<prefix><digits><suffix>` holding `content`; returns its path. */
  static file(prefix: string, content: string, mode: i32 = 0o600, suffix: string = ""): string {
    const req = Json.obj().setStr("prefix", prefix).setStr("suffix", suffix).setStr("data_base64", base64Encode(utf8(content))).setNum("mode", mode);
    return HostCall.temp_file(req).getString("path");
  }
}

/** The host's clock (pure host functions, no capability): wall and monotonic time, and waiting. */
const UNIX_MS = Uint8Array.wrap(String.UTF8.encode("unix_ms"));
const MONOTONIC_MS = Uint8Array.wrap(String.UTF8.encode("monotonic_ms"));

// The clock is read in loops (deadlines, retries, pacing), so it skips the Json tree both ways.
export class Clock {
  /** Milliseconds since the Unix epoch. */
  static unixMs(): f64 {
    return replyNumber("now", host_now(emptyRequest()), "unix_ms", UNIX_MS);
  }
  /** Milliseconds on a clock that never goes back (for deadlines). */
  static monotonicMs(): f64 {
    return replyNumber("now", host_now(emptyRequest()), "monotonic_ms", MONOTONIC_MS);
  }
  /** Waits `ms` milliseconds; an abort (timeout, Ctrl-C) ends the wait and stops the plugin. */
  static sleep(ms: f64): void {
    HostCall.sleep(Json.obj().setNum("ms", ms));
  }
}

export class Template {
  /** Renders a Packer template string ({{.Name}} etc.) with `data`; allowed in prepare. */
  static render(template: string, data: Json): string {
    return HostCall.template_render(Json.obj().setStr("template", template).set("data", data)).getString("result");
  }
}

/** Go's fmt.Sprintf for the two-%s formats Packer uses (env_var_format). Extra %s become empty. */
export function sprintf2(format: string, a: string, b: string): string {
  const parts = new Array<string>();
  let used = 0;
  let start = 0;
  for (let i = 0; i < format.length - 1; i++) {
    if (format.charCodeAt(i) == 0x25) {
      const next = format.charCodeAt(i + 1);
      if (next == 0x73) {
        parts.push(format.substring(start, i));
        parts.push(used == 0 ? a : used == 1 ? b : "%!s(MISSING)");
        used++;
        i++;
        start = i + 1;
      } else if (next == 0x25) {
        parts.push(format.substring(start, i) + "%");
        i++;
        start = i + 1;
      }
    }
  }
  parts.push(format.substring(start));
  return parts.join("");
}

/** Go's %v of []int: "[0 1]". */
export function formatIntList(list: Array<f64>): string {
  const parts = new Array<string>();
  for (let i = 0; i < list.length; i++) parts.push((<i64>list[i]).toString());
  return "[" + parts.join(" ") + "]";
}

/** Sorted copy of a string list (Go's sort.Strings: byte order, which equals UTF-16 order for ASCII keys). */
export function sortedStrings(list: Array<string>): Array<string> {
  const out = list.slice(0);
  out.sort((x: string, y: string): i32 => (x < y ? -1 : x > y ? 1 : 0));
  return out;
}

