// shell provisioner: uploads scripts to the machine and runs them there (Packer's shell provisioner).
import { Build, Description, Json, Plugin, Prepared, fail, mergeConfigs, ok } from "../../sdk/assembly/sdk";
import { prepareShell, shellFields } from "./config";
import { runShell } from "./run";

export function describe(): i32 {
  // local_file_read: reading `script`/`scripts`; temp_file: the inline script's local copy.
  const d = new Description("provisioner", "shell", "0.1.0")
    .capability("communicator")
    .capability("local_file_read")
    .capability("temp_file");
  return ok(shellFields(d).toJson());
}

export function prepare(): i32 {
  const p = new Prepared();
  const config = prepareShell(mergeConfigs(Plugin.input()), p);
  return p.finish(config);
}

export function provision(): i32 {
  const err = runShell(new Build(Plugin.input()));
  if (err.length > 0) return fail(err);
  return ok(Json.obj());
}
