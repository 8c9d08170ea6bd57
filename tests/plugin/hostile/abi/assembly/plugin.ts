// ABI probe: host-call volume (block reuse), return codes, the clock, and byte handles.
import { exactNumber, findField } from "../../../../../plugins-wasm/sdk/assembly/json-field";
import { Build, Clock, Description, HostCall, Json, Plugin, Prepared, Ui, fail, mergeConfigs, ok } from "../../../../../plugins-wasm/sdk/assembly/sdk";

@external("extism:host/user", "artifact_pread") declare function artifact_pread(h: u64, offset: u64, ptr: u64, len: u64): i64;
@external("extism:host/user", "artifact_pwrite") declare function artifact_pwrite(h: u64, offset: u64, ptr: u64, len: u64): i64;
@external("extism:host/user", "artifact_close") declare function artifact_close(h: u64): i64;

export function describe(): i32 {
  const d = new Description("post-processor", "abi-probe", "0.0.1")
    .field("action", "string", true)
    .field("count", "number")
    .field("path", "string")
    .field("out", "string")
    .capability("artifact_read")
    .capability("artifact_write");
  return ok(d.toJson());
}

export function configure(): i32 {
  return new Prepared().finish(mergeConfigs(Plugin.input()));
}

function result(artifactId: string): i32 {
  return ok(Json.obj().set("artifact", Json.obj().setStr("builder_id", "abi").setStr("id", artifactId).set("files", Json.arr()).setStr("string", "")).setBool("keep", true));
}

export function post_process(): i32 {
  const c = new Build(Plugin.input()).config;
  const action = c.getString("action");
  const count = i32(c.getNumber("count"));
  if (action == "now_many") {
    let last: f64 = 0;
    for (let i = 0; i < count; i++) {
      const t = Clock.monotonicMs();
      if (t < last) return fail("the monotonic clock went back");
      last = t;
    }
    return result("calls " + count.toString());
  }
  if (action == "json_field") {
    // The SDK's tree-less field reader on the JSON text in `path`, for the key in `out`.
    const span = findField(Uint8Array.wrap(String.UTF8.encode(c.getString("path"))), Uint8Array.wrap(String.UTF8.encode(c.getString("out"))));
    if (span.unreadable) return result("unreadable");
    if (span.hasError) return result("error reply");
    if (!span.found) return result("absent");
    const n = exactNumber(Uint8Array.wrap(String.UTF8.encode(c.getString("path"))), span.start, span.end);
    return result(isNaN(n) ? "general" : n.toString());
  }
  if (action == "status") return 3; // non-zero, no error_set
  if (action == "sleep") {
    const t0 = Clock.monotonicMs();
    Clock.sleep(f64(count));
    return result("slept " + i32(Clock.monotonicMs() - t0).toString());
  }
  if (action == "copy") {
    // Stream a file through plugin memory in 1 MiB chunks with byte handles; answer the sum of bytes.
    const src = HostCall.artifact_open(Json.obj().setStr("path", c.getString("path")));
    const dst = HostCall.artifact_create(Json.obj().setStr("path", c.getString("out")));
    const h = u64(src.getNumber("handle"));
    const w = u64(dst.getNumber("handle"));
    const buf = new Uint8Array(1 << 20);
    let off: u64 = 0;
    let sum: u64 = 0;
    while (true) {
      const n = artifact_pread(h, off, buf.dataStart, 1 << 20);
      if (n <= 0) break;
      for (let i = 0; i < i32(n); i++) sum += buf[i];
      if (artifact_pwrite(w, off, buf.dataStart, u64(n)) != n) return fail("short write");
      off += u64(n);
    }
    artifact_close(h);
    artifact_close(w);
    return result(off.toString() + " " + sum.toString());
  }
  if (action == "pread_outside") {
    const src = HostCall.artifact_open(Json.obj().setStr("path", c.getString("path")));
    artifact_pread(u64(src.getNumber("handle")), 0, 0xfffff000, 1 << 20);
    return result("unreachable");
  }
  if (action == "bad_handle") {
    artifact_pread(42, 0, 0, 1);
    return result("unreachable");
  }
  Ui.say("unknown action");
  return result("none");
}
