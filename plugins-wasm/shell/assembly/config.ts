// Packer's shell provisioner Prepare: the keys, their defaults, and the checks that need no files.
// Whether a `script` exists is checked when the provisioner runs (prepare may not touch files here),
// before anything is uploaded.
import { Description, Json, JsonKind, Prepared, Template, quote } from "../../sdk/assembly/sdk";
import { parseGoDuration } from "./duration";

export function shellFields(d: Description): Description {
  return d
    .field("inline", "list(string)", false, false, "Commands, joined by newlines into one script run with inline_shebang.")
    .field("script", "string", false, false, "A local script to upload and run (relative to the working directory).")
    .field("scripts", "list(string)", false, false, "Local scripts to upload and run in order.")
    .field("binary", "bool", false, false, "Upload scripts as they are (no Windows-to-Unix line endings).")
    .field("valid_exit_codes", "list(number)")
    .field("environment_vars", "list(string)", false, false, "KEY=value pairs for the script.")
    .field("env", "map(string)", false, false, "Variables for the script; wins over environment_vars.")
    .field("env_var_format", "string")
    .field("use_env_var_file", "bool", false, false, "Write the variables to a remote file and source it.")
    .field("execute_command", "string", false, true, "Runs the script; {{.Path}}, {{.Vars}}, {{.EnvVarFile}}.")
    .field("inline_shebang", "string")
    .field("remote_folder", "string")
    .field("remote_file", "string")
    .field("remote_path", "string")
    .field("skip_clean", "bool")
    .field("expect_disconnect", "bool")
    .field("start_retry_timeout", "string")
    .field("pause_after", "string");
}

function checkDuration(c: Json, key: string, p: Prepared): void {
  const text = c.getString(key);
  if (text.length > 0 && parseGoDuration(text) < 0) p.error(key + ": invalid duration " + quote(text) + " (use Go's form, e.g. \"30s\", \"5m\", \"1h10m\")");
}

/** A random script name as Packer picks it: script_<0..9998>.sh (prepare has no clock or RNG but {{uuid}}). */
function randomScriptName(): string {
  const uuid = Template.render("{{uuid}}", Json.obj()).replaceAll("-", "");
  const tail = uuid.length >= 8 ? uuid.substring(uuid.length - 8) : uuid;
  const n = <i64>parseInt(tail, 16);
  return "script_" + (n % 9999).toString() + ".sh";
}

/** Validates the merged config and fills in Packer's defaults; problems go to `p`. */
export function prepareShell(c: Json, p: Prepared): Json {
  const useEnvFile = c.getBool("use_env_var_file");
  if (c.getString("env_var_format").length == 0) c.setStr("env_var_format", useEnvFile ? "export %s='%s'\n" : "%s='%s' ");
  if (c.getString("execute_command").length == 0) {
    c.setStr("execute_command", useEnvFile ? "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}" : "chmod +x {{.Path}}; {{.Vars}} {{.Path}}");
  }
  if (c.getString("inline_shebang").length == 0) c.setStr("inline_shebang", "/bin/sh -e");
  if (c.getString("start_retry_timeout").length == 0) c.setStr("start_retry_timeout", "5m");
  if (c.getString("remote_folder").length == 0) c.setStr("remote_folder", "/tmp");
  if (c.getString("remote_file").length == 0) c.setStr("remote_file", randomScriptName());
  if (c.getString("remote_path").length == 0) c.setStr("remote_path", c.getString("remote_folder") + "/" + c.getString("remote_file"));
  const codes = c.get("valid_exit_codes");
  if (codes === null || codes.kind != JsonKind.Array || codes.items.length == 0) c.set("valid_exit_codes", Json.arr().push(Json.num(0)));

  // Packer treats `inline = []` as no inline at all.
  const inline = c.get("inline");
  const hasInline = inline !== null && inline.kind == JsonKind.Array && inline.items.length > 0;
  if (!hasInline && c.has("inline")) c.set("inline", Json.null());

  const script = c.getString("script");
  let scripts = c.getStringList("scripts");
  if (scripts === null) scripts = new Array<string>();
  if (script.length > 0 && scripts.length > 0) p.error("Only one of script or scripts can be specified.");
  if (script.length > 0) scripts = [script];
  c.set("scripts", Json.strings(scripts));

  if (scripts.length == 0 && !hasInline) {
    p.error("Either a script file or inline script must be specified (set inline, script or scripts).");
  } else if (scripts.length > 0 && hasInline) {
    p.error("Only a script file or an inline script can be specified, not both (inline with script/scripts).");
  }

  const vars = c.getStringList("environment_vars");
  if (vars !== null) {
    for (let i = 0; i < vars.length; i++) {
      if (vars[i].indexOf("=") <= 0) p.error("Environment variable not in format 'key=value': " + vars[i] + " (environment_vars)");
    }
  }
  checkDuration(c, "start_retry_timeout", p);
  checkDuration(c, "pause_after", p);
  return c;
}
