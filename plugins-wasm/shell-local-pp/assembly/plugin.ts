// shell-local post-processor (Packer's): runs a local script after the build with the same keys
// as the shell-local provisioner (shared code in the SDK) and passes the artifact through.
// keep_input_artifact has no effect: the artifact is always kept (keep and force_override true).
import { Description, Plugin, PostProcessInput, Prepared, fail, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";
import { prepareShellLocal, runShellLocal, shellLocalFields } from "../../sdk/assembly/shelllocal";

export function describe(): i32 {
  const d = new Description("post-processor", "shell-local", "0.1.0").capability("local_exec").capability("temp_file");
  return ok(shellLocalFields(d).toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const config = prepareShellLocal(mergeConfigs(Plugin.input()), p);
  return p.finish(config);
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const err = runShellLocal(input);
  if (err.length > 0) return fail(err);
  return postProcessed(input.artifact, true, true);
}
