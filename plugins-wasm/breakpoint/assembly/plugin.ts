// breakpoint provisioner: pauses the build until the user presses Enter (Packer's breakpoint).
// Without a terminal nobody can press Enter: Packer 1.6.6 then fails the build with "Error asking for
// input"; imgb says why it did not pause and continues, so a template with a breakpoint left in it
// still builds in CI.
import { Build, Description, Json, Plugin, Prepared, Ui, fail, HostCall, mergeConfigs, ok } from "../../sdk/assembly/sdk";

export function describe(): i32 {
  const d = new Description("provisioner", "breakpoint", "0.1.0")
    .field("note", "string", false, false, "Shown when the build pauses here.")
    .field("disable", "bool", false, false, "Skip this breakpoint.")
    .capability("ui_ask");
  return ok(d.toJson());
}

export function prepare(): i32 {
  const p = new Prepared();
  return p.finish(mergeConfigs(Plugin.input()));
}

export function provision(): i32 {
  const c = new Build(Plugin.input()).config;
  const note = c.getString("note");
  if (c.getBool("disable")) {
    if (note.length > 0) Ui.say('Breakpoint provisioner with note "' + note + '" disabled; continuing...');
    else Ui.say("Breakpoint provisioner disabled; continuing...");
    return ok(Json.obj());
  }
  if (note.length > 0) Ui.say('Pausing at breakpoint provisioner with note "' + note + '".');
  else Ui.say("Pausing at breakpoint provisioner.");
  const reply = HostCall.ui_ask(Json.obj().setStr("query", "Press enter to continue."), true);
  if (reply.has("error")) {
    const reason = reply.getString("error");
    // A refused capability is not "no terminal": the host fails the call with it anyway.
    if (reason.startsWith("capability ")) return fail(reason);
    if (reason.includes("not a terminal")) Ui.say("Breakpoint skipped: standard input is not a terminal, so nobody can press enter; continuing...");
    else Ui.say("Breakpoint skipped: " + reason + "; continuing...");
  }
  return ok(Json.obj());
}
