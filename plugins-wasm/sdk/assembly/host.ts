// The raw imgb-plugin/1 host calls (namespace extism:host/user) and the one place that moves JSON
// between plugin memory and Extism memory. AssemblyScript has no exceptions: a host call that
// answers {"error": ...} stops the plugin at once through `fail` (error_set, then a trap), which is
// also what the host reports, since it records every error it answered.
import { alloc, error_set, length, load_u64, load_u8, store_u64, store_u8 } from "@extism/as-pdk/lib/env";
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

/** Copies bytes into Extism memory, 8 bytes at a time (as-pdk's allocateBytes stores one byte per call). */
export function storeBytes(data: Uint8Array): u64 {
  const n = data.length;
  const offset = alloc(u64(n));
  const words = n >> 3;
  const view = Uint64Array.wrap(data.buffer, data.byteOffset, words);
  for (let w = 0; w < words; w++) store_u64(offset + u64(w << 3), view[w]);
  for (let i = words << 3; i < n; i++) store_u8(offset + u64(i), data[i]);
  return offset;
}

export function loadBytes(offset: u64): Uint8Array {
  const n = i32(length(offset));
  const out = new Uint8Array(n);
  const words = n >> 3;
  const view = Uint64Array.wrap(out.buffer, 0, words);
  for (let w = 0; w < words; w++) view[w] = load_u64(offset + u64(w << 3));
  for (let i = words << 3; i < n; i++) out[i] = load_u8(offset + u64(i));
  return out;
}

function dispatch(name: string, p: u64): u64 {
  if (name == "ui_say") return host_ui_say(p);
  if (name == "ui_message") return host_ui_message(p);
  if (name == "ui_error") return host_ui_error(p);
  if (name == "ui_ask") return host_ui_ask(p);
  if (name == "ui_progress") return host_ui_progress(p);
  if (name == "template_render") return host_template_render(p);
  if (name == "comm_start") return host_comm_start(p);
  if (name == "comm_upload") return host_comm_upload(p);
  if (name == "comm_upload_dir") return host_comm_upload_dir(p);
  if (name == "comm_download") return host_comm_download(p);
  if (name == "comm_download_dir") return host_comm_download_dir(p);
  if (name == "local_exec") return host_local_exec(p);
  if (name == "local_file_read") return host_local_file_read(p);
  if (name == "local_file_write") return host_local_file_write(p);
  if (name == "temp_file") return host_temp_file(p);
  if (name == "artifact_read") return host_artifact_read(p);
  if (name == "artifact_write") return host_artifact_write(p);
  fail("unknown host function " + name);
  return 0;
}

/**
 * Calls a host function with a JSON request and returns its JSON reply. An {"error": ...} reply
 * stops the plugin with that message (unless `allowError`, then the reply is returned as is).
 */
export function hostCall(name: string, request: Json, allowError: bool = false): Json {
  return replyOf(name, dispatch(name, requestOf(request)), allowError);
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
