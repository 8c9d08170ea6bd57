// Packer's shell-local (packer-plugin-sdk shell-local/config.go + run.go), shared by the shell-local
// provisioner and post-processor plugins: the config keys, Prepare's validation and defaults, and Run.
import { Json, JsonKind } from "./json";
import { Build, CommandResult, Description, Local, Prepared, Temp, Template, Ui, formatIntList, sortedStrings, sprintf2 } from "./sdk";

const SUPPORTED_OS: Array<string> = ["darwin", "freebsd", "linux", "openbsd", "solaris", "windows"];

/** Declares shell-local's configuration keys on a description. */
export function shellLocalFields(d: Description): Description {
  return d
    .field("command", "string")
    .field("inline", "list(string)")
    .field("script", "string")
    .field("scripts", "list(string)")
    .field("environment_vars", "list(string)")
    .field("env", "map(string)")
    .field("execute_command", "list(string)", false, true)
    .field("env_var_format", "string")
    .field("use_env_var_file", "bool", false, false, "Write the variables to a file only you can read and source it (the default when a value is sensitive).")
    .field("inline_shebang", "string")
    .field("only_on", "list(string)")
    .field("use_linux_pathing", "bool")
    .field("valid_exit_codes", "list(number)")
    .field("tempfile_extension", "string");
}

function isEmptyList(v: Json | null): bool {
  return v === null || v.kind != JsonKind.Array || v.items.length == 0;
}

/**
 * Packer's Validate: checks the merged config and fills in the defaults. Returns the final config;
 * problems are added to `p`. `hostOs` is Go's runtime.GOOS of the imgb host.
 */
export function prepareShellLocal(c: Json, p: Prepared): Json {
  if (c.getString("inline_shebang").length == 0) c.setStr("inline_shebang", "/bin/sh -e");
  // With use_env_var_file the values never reach a command line (visible to every user in the
  // process table): they are written to a 0600 file, sourced, and removed when the call ends.
  const useEnvFile = c.getBool("use_env_var_file");
  const command = useEnvFile ? ". {{.EnvVarFile}} && {{.Script}}" : "{{.Vars}} {{.Script}}";
  if (isEmptyList(c.get("execute_command"))) c.set("execute_command", Json.strings(["/bin/sh", "-c", command]));
  if (c.getString("env_var_format").length == 0) c.setStr("env_var_format", useEnvFile ? "export %s='%s'\n" : "%s='%s' ");
  if (isEmptyList(c.get("valid_exit_codes"))) c.set("valid_exit_codes", Json.arr().push(Json.num(0)));

  const commandKey = c.getString("command");
  const script = c.getString("script");
  const inline = c.get("inline");
  const hasInline = inline !== null && inline.kind == JsonKind.Array;
  const inlineCount = hasInline ? inline!.items.length : 0;
  const scripts = c.getStringList("scripts");
  const scriptCount = scripts === null ? 0 : scripts.length;

  if (commandKey.length == 0 && inlineCount == 0 && scriptCount == 0 && script.length == 0) {
    p.error("Command, Inline, Script and Scripts options cannot all be empty.");
  }
  const tooMany =
    "You may only specify one of the following options: Command, Inline, Script or Scripts. Please consolidate these options in your config.";
  let inlineSet = hasInline;
  if (commandKey.length > 0) {
    if (inlineCount != 0 || scriptCount != 0 || script.length > 0) p.error(tooMany);
    else {
      c.set("inline", Json.strings([commandKey]));
      inlineSet = true;
    }
  }
  let finalScripts = scriptCount;
  if (script.length > 0) {
    if (scriptCount > 0 || inlineCount > 0) p.error(tooMany);
    else {
      c.set("scripts", Json.strings([script]));
      finalScripts = 1;
    }
  }
  if (finalScripts > 0 && inlineSet && commandKey.length == 0 && script.length == 0) p.error(tooMany);

  const onlyOn = c.getStringList("only_on");
  if (onlyOn !== null) {
    for (let i = 0; i < onlyOn.length; i++) {
      if (!SUPPORTED_OS.includes(onlyOn[i])) {
        p.error("Invalid OS specified in only_on: '" + onlyOn[i] + "'\nSupported OS names: " + SUPPORTED_OS.join(", "));
        break;
      }
    }
  }

  const vars = c.getStringList("environment_vars");
  if (vars !== null) {
    for (let i = 0; i < vars.length; i++) {
      const eq = vars[i].indexOf("=");
      if (eq <= 0) p.error("Environment variable not in format 'key=value': " + vars[i]);
    }
  }
  return c;
}

function shellQuoteValue(v: string): string {
  // Packer replaces ' with '"'"' so the value survives the '%s' of env_var_format.
  return v.replaceAll("'", "'\"'\"'");
}

/** Packer's createFlattenedEnvVars: PACKER_* plus environment_vars plus env, sorted by key. */
export function flattenedEnvVars(c: Json, build: Build): string {
  const values = new Map<string, string>();
  const keys = new Array<string>();
  values.set("PACKER_BUILDER_TYPE", build.builderType);
  keys.push("PACKER_BUILDER_TYPE");
  values.set("PACKER_BUILD_NAME", build.sourceName);
  keys.push("PACKER_BUILD_NAME");
  const vars = c.getStringList("environment_vars");
  if (vars !== null) {
    for (let i = 0; i < vars.length; i++) {
      const eq = vars[i].indexOf("=");
      if (eq <= 0) continue;
      const k = vars[i].substring(0, eq);
      if (!values.has(k)) keys.push(k);
      values.set(k, shellQuoteValue(vars[i].substring(eq + 1)));
    }
  }
  const env = c.getObject("env");
  if (env !== null) {
    for (let i = 0; i < env.keys.length; i++) {
      const k = env.keys[i];
      const v = env.values.get(k);
      if (!values.has(k)) keys.push(k);
      values.set(k, shellQuoteValue(v.kind == JsonKind.String ? v.s : v.stringify()));
    }
  }
  const sorted = sortedStrings(keys);
  const format = c.getString("env_var_format", "%s='%s' ");
  const parts = new Array<string>();
  for (let i = 0; i < sorted.length; i++) parts.push(sprintf2(format, sorted[i], values.get(sorted[i])));
  return parts.join("");
}

/** Packer's shell-local Run. Returns "" on success, or the error message. */
export function runShellLocal(build: Build): string {
  const c = build.config;
  const onlyOn = c.getStringList("only_on");
  if (onlyOn !== null && onlyOn.length > 0 && !onlyOn.includes(build.hostOs)) {
    Ui.say("Skipping shell-local due to runtime OS");
    return "";
  }

  let scripts = c.getStringList("scripts");
  if (scripts === null || scripts.length == 0) {
    scripts = new Array<string>();
    const inline = c.getStringList("inline");
    if (inline !== null) {
      const lines = new Array<string>();
      const shebang = c.getString("inline_shebang");
      if (shebang.length > 0) lines.push("#!" + shebang);
      const data = Json.obj().setStr("WinRMPassword", "");
      for (let i = 0; i < inline.length; i++) lines.push(Template.render(inline[i], data));
      const ext = c.getString("tempfile_extension");
      scripts.push(Temp.file("packer-shell", lines.join("\n") + "\n", 0o700, ext.length > 0 ? "." + ext : ""));
    }
  }

  const vars = flattenedEnvVars(c, build);
  // The host removes its temp files when this call ends, whatever happens to the scripts.
  const envVarFile = c.getBool("use_env_var_file") ? Temp.file("packer-shell-vars", vars, 0o600, ".sh") : "";
  const execute = c.getStringList("execute_command");
  const valid = c.getNumberList("valid_exit_codes");
  for (let s = 0; s < scripts.length; s++) {
    const script = scripts[s];
    const data = Json.obj().setStr("Vars", envVarFile.length > 0 ? "" : vars).setStr("EnvVarFile", envVarFile).setStr("Script", script).setStr("Command", script).setStr("WinRMPassword", "");
    const argv = new Array<string>();
    for (let i = 0; i < execute!.length; i++) argv.push(Template.render(execute![i], data));
    Ui.say("Running local shell script: " + script);
    const r: CommandResult = Local.exec(argv);
    if (r.disconnected) return "Error executing script: " + script + "\n\nPlease see output above for more information.";
    let allowed = false;
    for (let i = 0; i < valid!.length; i++) if (i32(valid![i]) == r.exitStatus) allowed = true;
    if (!allowed) return "Script exited with non-zero exit status: " + r.exitStatus.toString() + ".Allowed exit codes are: " + formatIntList(valid!);
  }
  return "";
}
