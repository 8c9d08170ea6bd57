// Packer's shell provisioner Provision: each script is uploaded to remote_path (mode 0755), run with
// execute_command (output streamed to the UI), checked against valid_exit_codes and removed unless
// skip_clean. Inline commands become one script starting with #!inline_shebang, written to a local
// temp file first as Packer does, so the UI names the same kind of path.
import {
  Build,
  Clock,
  CommandResult,
  Json,
  JsonKind,
  Temp,
  Template,
  Ui,
  base64Encode,
  formatIntList,
  HostCall,
  utf8,
} from "../../sdk/assembly/sdk";
import { flattenEnvVars } from "./env";
import { formatGoDuration, parseGoDuration } from "./duration";
import { readLocalFile, toUnixLines } from "./scriptfile";

/** Packer's packer.CmdDisconnect: the exit status it reports for a dropped connection. */
const CMD_DISCONNECT: i32 = 2300218;
/** Tries of removing a remote file whose connection dropped. */
const START_TRIES: i32 = 3;
/** Packer's retry.Config waits 2 s between tries of an upload-and-start, until start_retry_timeout. */
const RETRY_DELAY_MS: f64 = 2000;

const DISCONNECTED =
  "Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, you can try adding " +
  '`"expect_disconnect": true` or `"valid_exit_codes": [0, 2300218]` to the shell provisioner parameters.';

/** One script to run: the name the UI shows, and where its bytes come from. */
class Script {
  display: string = "";
  /** Upload from this local path (inline temp files, binary scripts)… */
  localPath: string = "";
  /** …or these bytes (text scripts after line-ending conversion). */
  data: Uint8Array | null = null;
}

/** POSIX shell word: plain paths stay as Packer prints them, anything else is single-quoted. */
export function shellWord(s: string): string {
  let plain = s.length > 0;
  for (let i = 0; i < s.length && plain; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2f || c == 0x2e || c == 0x5f || c == 0x2d || c == 0x2b || c == 0x3a || c == 0x40 || c == 0x25;
    if (!ok) plain = false;
  }
  return plain ? s : "'" + s.replaceAll("'", "'\\''") + "'";
}

/** An upload through the communicator; returns "" or the host's error (a dropped link is retried by the caller). */
function upload(dest: string, script: Script, mode: i32): string {
  const req = Json.obj().setStr("dest", dest).setNum("mode", mode);
  if (script.data !== null) req.set("src", Json.obj().setStr("data_base64", base64Encode(script.data!)));
  else req.set("src", Json.obj().setStr("path", script.localPath));
  const reply = HostCall.comm_upload(req, true);
  return reply.has("error") ? reply.getString("error") : "";
}

class Started {
  result: CommandResult = new CommandResult();
  error: string = "";
}

function start(command: string, toUi: bool): Started {
  const s = new Started();
  const reply = HostCall.comm_start(Json.obj().setStr("command", command).setStr("output", toUi ? "ui" : "return"), true);
  if (reply.has("error")) s.error = reply.getString("error");
  else s.result = CommandResult.from(reply);
  return s;
}

function uuidNumber(): i64 {
  const uuid = Template.render("{{uuid}}", Json.obj()).replaceAll("-", "");
  return <i64>parseInt(uuid.substring(uuid.length - 8), 16);
}

/** Packer's cleanupRemoteFile: `rm -f PATH`, retried when the connection drops. Returns "" or the error. */
function removeRemote(path: string): string {
  let last = "";
  for (let attempt = 0; attempt < START_TRIES; attempt++) {
    const s = start("rm -f " + shellWord(path), false);
    if (s.error.length > 0) {
      last = "Error removing temporary script at " + path + ": " + s.error;
      continue;
    }
    if (s.result.disconnected) {
      last = "Disconnect while removing temporary script.";
      continue;
    }
    if (s.result.exitStatus != 0) return "Error removing temporary script at " + path + "!";
    return "";
  }
  return last;
}

function withoutCarriageReturns(text: string): string {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith("\r")) lines[i] = lines[i].substring(0, lines[i].length - 1);
  return lines.join("\n");
}

function inlineScript(c: Json): Script {
  const lines = new Array<string>();
  lines.push("#!" + c.getString("inline_shebang"));
  const inline = c.getStringList("inline")!;
  // Packer renders each command again at run time, with the build's generated data.
  for (let i = 0; i < inline.length; i++) lines.push(Template.render(inline[i], Json.obj()));
  let text = lines.join("\n") + "\n";
  // Packer uploads the inline file through UnixReader too (unless binary): no "\r" before a newline.
  if (!c.getBool("binary")) text = withoutCarriageReturns(text);
  const s = new Script();
  s.localPath = Temp.file("packer-shell", text, 0o700);
  s.display = s.localPath;
  return s;
}

/** Reads every script before any runs, so a missing third script fails before the first one ran. */
function fileScripts(c: Json, scripts: Array<string>, errors: Array<string>): Array<Script> {
  const out = new Array<Script>();
  const binary = c.getBool("binary");
  for (let i = 0; i < scripts.length; i++) {
    const s = new Script();
    s.display = scripts[i];
    const r = readLocalFile(scripts[i]);
    if (r.error.length > 0) {
      errors.push("Bad script '" + scripts[i] + "': " + r.error);
      continue;
    }
    // Binary scripts stream from the file itself (no size limit); text ones are converted here.
    if (binary) s.localPath = scripts[i];
    else s.data = toUnixLines(r.data);
    out.push(s);
  }
  return out;
}

function renderData(build: Build, vars: string, envVarFile: string, path: string): Json {
  const data = Json.obj();
  const generated = build.generated;
  for (let i = 0; i < generated.keys.length; i++) data.set(generated.keys[i], generated.values.get(generated.keys[i]));
  return data.setStr("Vars", vars).setStr("EnvVarFile", envVarFile).setStr("Path", path).setStr("WinRMPassword", "");
}

function exitAllowed(codes: Array<f64>, status: i32): bool {
  for (let i = 0; i < codes.length; i++) if (i32(codes[i]) == status) return true;
  return false;
}

/** Runs one script to completion. Returns "" or the provisioner's error. */
function runScript(c: Json, build: Build, script: Script, vars: string, envVarFile: string): string {
  const remotePath = c.getString("remote_path");
  Ui.say("Provisioning with shell script: " + script.display);
  const rendered = HostCall.template_render(Json.obj().setStr("template", c.getString("execute_command")).set("data", renderData(build, vars, envVarFile, remotePath)), true);
  if (rendered.has("error")) return "Error processing command: " + rendered.getString("error");
  const command = rendered.getString("result");

  let ran: Started | null = null;
  let failure = "";
  const deadline = Clock.monotonicMs() + parseGoDuration(c.getString("start_retry_timeout")) / 1e6;
  for (let attempt = 0; ran === null; attempt++) {
    if (attempt > 0) {
      if (Clock.monotonicMs() + RETRY_DELAY_MS > deadline) break;
      Clock.sleep(RETRY_DELAY_MS);
    }
    const up = upload(remotePath, script, 0o755);
    if (up.length > 0) {
      failure = "Error uploading script: " + up;
      continue;
    }
    const s = start(command, true);
    if (s.error.length > 0) {
      failure = s.error;
      continue;
    }
    ran = s;
  }
  if (ran === null) return failure;

  const r = ran!.result;
  const codes = c.getNumberList("valid_exit_codes")!;
  if (r.disconnected) {
    if (!c.getBool("expect_disconnect") && !exitAllowed(codes, CMD_DISCONNECT)) return DISCONNECTED;
  } else if (!exitAllowed(codes, r.exitStatus)) {
    return "Script exited with non-zero exit status: " + r.exitStatus.toString() + ".Allowed exit codes are: " + formatIntList(codes);
  }
  if (c.getBool("skip_clean")) return "";
  return removeRemote(remotePath);
}

/** Uploads the variables file (use_env_var_file) and returns its remote path, or "" with `errors` set. */
function uploadEnvVarFile(c: Json, vars: string, errors: Array<string>): string {
  const remote = c.getString("remote_folder") + "/varfile_" + (uuidNumber() % 9999).toString() + ".sh";
  const s = new Script();
  s.data = toUnixLines(utf8(vars));
  let last = "";
  for (let attempt = 0; attempt < START_TRIES; attempt++) {
    last = upload(remote, s, 0o600);
    if (last.length == 0) return remote;
  }
  errors.push("Error uploading envVarFile: " + last);
  return "";
}

/** Packer's Provision. Returns "" on success, or the error message. */
export function runShell(build: Build): string {
  const c = build.config;
  const errors = new Array<string>();
  const scripts = new Array<Script>();
  const inline = c.get("inline");
  if (inline !== null && inline.kind == JsonKind.Array && inline.items.length > 0) scripts.push(inlineScript(c));
  else {
    const listed = fileScripts(c, c.getStringList("scripts")!, errors);
    for (let i = 0; i < listed.length; i++) scripts.push(listed[i]);
  }
  if (errors.length > 0) return errors.join("\n");

  const useEnvFile = c.getBool("use_env_var_file");
  let envVarFile = "";
  if (useEnvFile) {
    envVarFile = uploadEnvVarFile(c, flattenEnvVars(c, build), errors);
    if (errors.length > 0) return errors[0];
  }
  // With use_env_var_file, {{.Vars}} still holds the variables in env_var_format, as in Packer.
  const vars = flattenEnvVars(c, build);

  for (let i = 0; i < scripts.length; i++) {
    const err = runScript(c, build, scripts[i], vars, envVarFile);
    if (err.length > 0) {
      // The variables file may hold secrets: it does not outlive a failed script either.
      if (useEnvFile && !c.getBool("skip_clean")) removeRemote(envVarFile);
      return err;
    }
  }
  if (useEnvFile && !c.getBool("skip_clean")) {
    const err = removeRemote(envVarFile);
    if (err.length > 0) return err;
  }

  const pause = parseGoDuration(c.getString("pause_after"));
  if (pause > 0) {
    Ui.say("Pausing " + formatGoDuration(pause) + " after this provisioner...");
    // The host's `sleep` waits; an abort (timeout, Ctrl-C) ends it.
    Clock.sleep(pause / 1e6);
  }
  return "";
}
