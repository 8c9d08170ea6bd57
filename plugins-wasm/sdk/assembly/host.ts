// The raw imgb-plugin/1 host calls (namespace extism:host/user) and the one place that moves JSON
// between plugin memory and Extism memory. AssemblyScript has no exceptions: a host call that
// answers {"error": ...} stops the plugin at once through `fail` (error_set, then a trap), which is
// also what the host reports, since it records every error it answered.
import { error_set, free, input_length, input_offset, length, output_set } from "./env";
import { Json, parseJson } from "./json";

@external("extism:host/user", "ui_say") declare function host_ui_say(p: u64): u64;
@external("extism:host/user", "ui_message") declare function host_ui_message(p: u64): u64;
@external("extism:host/user", "ui_error") declare function host_ui_error(p: u64): u64;
@external("extism:host/user", "ui_ask") declare function host_ui_ask(p: u64): u64;
@external("extism:host/user", "ui_progress") declare function host_ui_progress(p: u64): u64;
@external("extism:host/user", "template_render") declare function host_template_render(p: u64): u64;
@external("extism:host/user", "comm_start") declare function host_comm_start(p: u64): u64;
@external("extism:host/user", "comm_upload") declare function host_comm_upload(p: u64): u64;
@external("extism:host/user", "comm_upload_dir") declare function host_comm_upload_dir(p: u64): u64;
@external("extism:host/user", "comm_download") declare function host_comm_download(p: u64): u64;
@external("extism:host/user", "comm_download_dir") declare function host_comm_download_dir(p: u64): u64;
@external("extism:host/user", "local_exec") declare function host_local_exec(p: u64): u64;
@external("extism:host/user", "local_file_read") declare function host_local_file_read(p: u64): u64;
@external("extism:host/user", "local_file_write") declare function host_local_file_write(p: u64): u64;
@external("extism:host/user", "temp_file") declare function host_temp_file(p: u64): u64;
@external("extism:host/user", "artifact_read") declare function host_artifact_read(p: u64): u64;
@external("extism:host/user", "artifact_write") declare function host_artifact_write(p: u64): u64;
@external("extism:host/user", "artifact_open") declare function host_artifact_open(p: u64): u64;
@external("extism:host/user", "artifact_create") declare function host_artifact_create(p: u64): u64;
@external("extism:host/user", "artifact_pread") export declare function artifact_pread(handle: u64, offset: u64, ptr: u64, len: u64): i64;
@external("extism:host/user", "artifact_pwrite") export declare function artifact_pwrite(handle: u64, offset: u64, ptr: u64, len: u64): i64;
@external("extism:host/user", "artifact_close") export declare function artifact_close(handle: u64): i64;
@external("extism:host/user", "block_read") declare function block_read(block: u64, dst: u64): u64;
@external("extism:host/user", "block_write") declare function block_write(src: u64, len: u64): u64;
@external("extism:host/user", "now") declare function host_now(p: u64): u64;
@external("extism:host/user", "sleep") declare function host_sleep(p: u64): u64;
@external("extism:host/user", "plugin_error") declare function host_plugin_error(p: u64): u64;

/** Record an error for the host (Extism error_set) without stopping. */
export function setError(message: string): void {
  error_set(storeBytes(Uint8Array.wrap(String.UTF8.encode(message))));
}

/** Tells the host why the plugin is about to trap (a trap loses error_set's message). */
export function reportBeforeTrap(message: string): void {
  host_plugin_error(storeBytes(Uint8Array.wrap(String.UTF8.encode(Json.obj().setStr("message", message).stringify()))));
}

/** Stop the plugin with an error. Never returns. */
export function fail(message: string): void {
  setError(message);
  reportBeforeTrap(message);
  unreachable();
}

/** Copies bytes into a new host memory block (one host call). */
export function storeBytes(data: Uint8Array): u64 {
  return block_write(data.dataStart, u64(data.length));
}

/** The call's input bytes. */
export function inputBytes(): Uint8Array {
  const out = new Uint8Array(i32(input_length()));
  if (out.length > 0) block_read(input_offset(), out.dataStart);
  return out;
}

/** Sets the call's output. */
export function outputBytes(data: Uint8Array): void {
  output_set(storeBytes(data), u64(data.length));
}

/** Copies a host block into plugin memory (one host call) and frees the block (replies are the plugin's to free). */
export function loadBytes(offset: u64): Uint8Array {
  const out = new Uint8Array(i32(length(offset)));
  if (out.length > 0) block_read(offset, out.dataStart);
  free(offset);
  return out;
}

/**
 * The host functions of imgb-plugin/1, one method each: a JSON request in, the JSON reply out. An
 * {"error": ...} reply stops the plugin with that message unless `allowError`. Each method calls
 * its own import, so a module imports only the host functions it uses (the host checks the import
 * list against the declared capabilities at load).
 */
export class HostCall {
  static ui_say(request: Json, allowError: bool = false): Json {
    return replyOf("ui_say", host_ui_say(requestOf(request)), allowError);
  }
  static ui_message(request: Json, allowError: bool = false): Json {
    return replyOf("ui_message", host_ui_message(requestOf(request)), allowError);
  }
  static ui_error(request: Json, allowError: bool = false): Json {
    return replyOf("ui_error", host_ui_error(requestOf(request)), allowError);
  }
  static ui_ask(request: Json, allowError: bool = false): Json {
    return replyOf("ui_ask", host_ui_ask(requestOf(request)), allowError);
  }
  static ui_progress(request: Json, allowError: bool = false): Json {
    return replyOf("ui_progress", host_ui_progress(requestOf(request)), allowError);
  }
  static template_render(request: Json, allowError: bool = false): Json {
    return replyOf("template_render", host_template_render(requestOf(request)), allowError);
  }
  static comm_start(request: Json, allowError: bool = false): Json {
    return replyOf("comm_start", host_comm_start(requestOf(request)), allowError);
  }
  static comm_upload(request: Json, allowError: bool = false): Json {
    return replyOf("comm_upload", host_comm_upload(requestOf(request)), allowError);
  }
  static comm_upload_dir(request: Json, allowError: bool = false): Json {
    return replyOf("comm_upload_dir", host_comm_upload_dir(requestOf(request)), allowError);
  }
  static comm_download(request: Json, allowError: bool = false): Json {
    return replyOf("comm_download", host_comm_download(requestOf(request)), allowError);
  }
  static comm_download_dir(request: Json, allowError: bool = false): Json {
    return replyOf("comm_download_dir", host_comm_download_dir(requestOf(request)), allowError);
  }
  static local_exec(request: Json, allowError: bool = false): Json {
    return replyOf("local_exec", host_local_exec(requestOf(request)), allowError);
  }
  static local_file_read(request: Json, allowError: bool = false): Json {
    return replyOf("local_file_read", host_local_file_read(requestOf(request)), allowError);
  }
  static local_file_write(request: Json, allowError: bool = false): Json {
    return replyOf("local_file_write", host_local_file_write(requestOf(request)), allowError);
  }
  static temp_file(request: Json, allowError: bool = false): Json {
    return replyOf("temp_file", host_temp_file(requestOf(request)), allowError);
  }
  static artifact_read(request: Json, allowError: bool = false): Json {
    return replyOf("artifact_read", host_artifact_read(requestOf(request)), allowError);
  }
  static artifact_open(request: Json, allowError: bool = false): Json {
    return replyOf("artifact_open", host_artifact_open(requestOf(request)), allowError);
  }
  static artifact_create(request: Json, allowError: bool = false): Json {
    return replyOf("artifact_create", host_artifact_create(requestOf(request)), allowError);
  }
  static now(request: Json, allowError: bool = false): Json {
    return replyOf("now", host_now(requestOf(request)), allowError);
  }
  static sleep(request: Json, allowError: bool = false): Json {
    return replyOf("sleep", host_sleep(requestOf(request)), allowError);
  }
  static artifact_write(request: Json, allowError: bool = false): Json {
    return replyOf("artifact_write", host_artifact_write(requestOf(request)), allowError);
  }
}

/** A request in plugin memory, for an imported host function (modules with imports of their own). */
export function requestOf(request: Json): u64 {
  return storeBytes(Uint8Array.wrap(String.UTF8.encode(request.stringify())));
}

/** The JSON reply at `r`; an {"error": ...} reply stops the plugin unless `allowError`. */
export function replyOf(name: string, r: u64, allowError: bool = false): Json {
  const text = r == 0 ? "{}" : String.UTF8.decode(loadBytes(r).buffer);
  const parsed = parseJson(text);
  if (!parsed.ok) fail("host function " + name + " answered malformed JSON: " + parsed.error);
  const reply = parsed.value;
  if (!allowError && reply.has("error")) fail(reply.getString("error", "host function " + name + " failed"));
  return reply;
}

/**
 * Calls a JSON host function by name. It imports *every* host function, so a module that uses it must
 * declare every capability (the load-time check refuses undeclared imports): prefer `HostCall.<name>`.
 */
export function hostCall(name: string, request: Json, allowError: bool = false): Json {
  if (name == "ui_say") return HostCall.ui_say(request, allowError);
  if (name == "ui_message") return HostCall.ui_message(request, allowError);
  if (name == "ui_error") return HostCall.ui_error(request, allowError);
  if (name == "ui_ask") return HostCall.ui_ask(request, allowError);
  if (name == "ui_progress") return HostCall.ui_progress(request, allowError);
  if (name == "template_render") return HostCall.template_render(request, allowError);
  if (name == "comm_start") return HostCall.comm_start(request, allowError);
  if (name == "comm_upload") return HostCall.comm_upload(request, allowError);
  if (name == "comm_upload_dir") return HostCall.comm_upload_dir(request, allowError);
  if (name == "comm_download") return HostCall.comm_download(request, allowError);
  if (name == "comm_download_dir") return HostCall.comm_download_dir(request, allowError);
  if (name == "local_exec") return HostCall.local_exec(request, allowError);
  if (name == "local_file_read") return HostCall.local_file_read(request, allowError);
  if (name == "local_file_write") return HostCall.local_file_write(request, allowError);
  if (name == "temp_file") return HostCall.temp_file(request, allowError);
  if (name == "artifact_read") return HostCall.artifact_read(request, allowError);
  if (name == "artifact_open") return HostCall.artifact_open(request, allowError);
  if (name == "artifact_create") return HostCall.artifact_create(request, allowError);
  if (name == "now") return HostCall.now(request, allowError);
  if (name == "sleep") return HostCall.sleep(request, allowError);
  if (name == "artifact_write") return HostCall.artifact_write(request, allowError);
  fail("unknown host function " + name);
  return Json.obj();
}
