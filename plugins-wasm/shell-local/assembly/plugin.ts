// shell-local provisioner: runs a script on the imgb host (Packer's shell-local provisioner).
import { Build, Description, Plugin, Prepared, fail, mergeConfigs, ok } from "../../sdk/assembly/sdk";
import { prepareShellLocal, runShellLocal, shellLocalFields } from "../../sdk/assembly/shelllocal";
import { Json } from "../../sdk/assembly/json";

export function describe(): i32 {
  const d = new Description("provisioner", "shell-local", "0.1.0").capability("local_exec").capability("temp_file");
  return ok(shellLocalFields(d).toJson());
}

export function prepare(): i32 {
  const p = new Prepared();
  const config = prepareShellLocal(mergeConfigs(Plugin.input()), p);
  return p.finish(config);
}

export function provision(): i32 {
  const err = runShellLocal(new Build(Plugin.input()));
  if (err.length > 0) return fail(err);
  return ok(Json.obj());
}
