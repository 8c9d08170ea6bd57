// A misbehaving provisioner for the hostile-plugin suite: `action` in its config picks the misdeed.
import { Build, Comm, Description, Json, Local, Plugin, Prepared, Temp, Ui, fail, HostCall, hostCall, mergeConfigs, ok, parseJson, utf8 } from "../../../../../plugins-wasm/sdk/assembly/sdk";
import { alloc, output_set } from "@extism/as-pdk/lib/env";
import { Host } from "@extism/as-pdk";

let sink: i64 = 0;
const hoard = new Array<Uint8Array>();

export function describe(): i32 {
  const d = new Description("provisioner", "probe", "0.0.1")
    .field("action", "string", true)
    .field("path", "string")
    .field("count", "number")
    .field("names", "list(string)")
    .capability("local_file_read")
    .capability("local_exec")
    .capability("temp_file")
    .capability("communicator")
    .capability("ui_ask")
    // hostCall (by name) imports every host function: the load-time check wants them all declared.
    .capability("local_file_write")
    .capability("artifact_read")
    .capability("artifact_write")
    .capability("container_image")
    .capability("comm_proxy");
  return ok(d.toJson());
}

export function prepare(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  const action = c.getString("action");
  if (action == "exec_in_prepare") Local.exec(["/bin/true"]);
  if (action == "temp_in_prepare") Temp.file("x", "y");
  if (action == "loop_in_prepare") {
    while (true) sink++;
  }
  return p.finish(c);
}

export function provision(): i32 {
  const b = new Build(Plugin.input());
  const c = b.config;
  const action = c.getString("action");
  if (action == "ok") {
    Ui.say("probe ok " + i32(c.getNumber("count")).toString());
    return ok(Json.obj());
  }
  if (action == "loop") {
    while (true) sink++;
  }
  if (action == "membomb") {
    while (true) hoard.push(new Uint8Array(1 << 20));
  }
  if (action == "trap") unreachable();
  if (action == "abort") abort("deliberate abort");
  if (action == "garbage") {
    const junk = new Uint8Array(6);
    junk[0] = 0xff;
    junk[1] = 0xfe;
    junk[2] = 0x7b;
    junk[3] = 0x00;
    junk[4] = 0x22;
    junk[5] = 0x80;
    Host.output(junk);
    return 0;
  }
  if (action == "huge_host") {
    // 100 MB through Extism's own memory, not the plugin's.
    const size: u64 = 100 * 1024 * 1024;
    const off = alloc(size);
    output_set(off, size);
    return 0;
  }
  if (action == "big_output") {
    const n = i32(c.getNumber("count"));
    const s = "\"" + "x".repeat(n) + "\"";
    Host.output(utf8(s));
    return 0;
  }
  if (action == "ui_flood") {
    const n = i32(c.getNumber("count"));
    for (let i = 0; i < n; i++) Ui.message("flood " + i.toString());
    return ok(Json.obj());
  }
  if (action == "read") {
    const data = Local.readFile(c.getString("path"));
    Ui.say("read " + data.length.toString() + " bytes");
    return ok(Json.obj());
  }
  if (action == "exec") {
    const r = Local.exec(["/bin/sh", "-c", c.getString("path")]);
    Ui.say("exit " + r.exitStatus.toString());
    return ok(Json.obj());
  }
  if (action == "comm") {
    // Round trip through the build's communicator: command, upload, download.
    const dir = c.getString("path");
    const r = Comm.start("echo out-line; echo err-line >&2; exit 7");
    Ui.say("comm exit " + r.exitStatus.toString());
    const quiet = Comm.start("printf captured", false);
    Ui.say("returned " + quiet.stdout);
    Comm.uploadBytes(dir + "/up.txt", utf8("uploaded \u00e9\u{1F600}"), 0o640);
    const back = Comm.downloadBytes(dir + "/up.txt");
    Ui.say("downloaded " + String.UTF8.decode(back.buffer));
    return ok(Json.obj());
  }
  if (action == "ask") {
    const answer = Ui.ask("Continue?");
    const id = HostCall.ui_progress(Json.obj().setStr("op", "start").setStr("label", "work").setNum("total", 10)).getNumber("id");
    HostCall.ui_progress(Json.obj().setStr("op", "update").setNum("id", id).setNum("done", 5));
    HostCall.ui_progress(Json.obj().setStr("op", "finish").setNum("id", id));
    Ui.say("answer " + answer);
    return ok(Json.obj());
  }
  if (action == "calls") {
    // Raw host calls ("function<TAB>request JSON"), errors ignored, each reply said on the UI.
    const calls = c.getStringList("names");
    if (calls !== null) {
      for (let i = 0; i < calls.length; i++) {
        const tab = calls[i].indexOf("\t");
        const req = parseJson(calls[i].substring(tab + 1));
        if (!req.ok) continue;
        Ui.say(calls[i].substring(0, tab) + " " + hostCall(calls[i].substring(0, tab), req.value, true).stringify());
      }
    }
    return ok(Json.obj());
  }
  if (action == "ignore_refusal") {
    // Calls a refused function without letting the SDK stop, then claims success.
    HostCall.local_file_read(Json.obj().setStr("path", "/etc/hostname"), true);
    return ok(Json.obj());
  }
  return fail("unknown action " + action);
}
