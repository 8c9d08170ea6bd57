// The one place that moves JSON between plugin memory and Extism memory for the host calls of
// imgb-plugin/1 (their imports: externals.ts; one method per JSON call: calls.ts; both generated from
// the host's table by scripts/host-functions.ts). AssemblyScript has no exceptions: a host call that
// answers {"error": ...} stops the plugin at once through `fail` (error_set, then a trap), which is
// also what the host reports, since it records every error it answered.
import { error_set, free, input_length, input_offset, length, output_set } from "./env";
import { Json, parseJson } from "./json";
import { exactNumber, findField } from "./json-field";
import { block_read, block_write, host_plugin_error } from "./externals";

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

/** A request in plugin memory, for an imported host function (modules with imports of their own). */
export function requestOf(request: Json): u64 {
  return storeBytes(Uint8Array.wrap(String.UTF8.encode(request.stringify())));
}

/** The JSON reply at `r`; an {"error": ...} reply stops the plugin unless `allowError`. */
export function replyOf(name: string, r: u64, allowError: bool = false): Json {
  return replyFromBytes(name, r == 0 ? new Uint8Array(0) : loadBytes(r), allowError);
}

const EMPTY_REQUEST = memory.data<u8>([0x7b, 0x7d]); // {}

/** `{}` in a new host block: the request of a call without arguments, with nothing to build. */
export function emptyRequest(): u64 {
  return block_write(u64(EMPTY_REQUEST), 2);
}

/**
 * The number in field `key` of the reply at `r`, read from the bytes without building a tree (see
 * json-field.ts); an error reply stops the plugin as replyOf does, and anything the short reader does
 * not take goes through replyOf's full parse.
 */
export function replyNumber(name: string, r: u64, key: string, keyBytes: Uint8Array): f64 {
  const bytes = r == 0 ? new Uint8Array(0) : loadBytes(r);
  const field = findField(bytes, keyBytes);
  if (field.found && !field.hasError) {
    const n = exactNumber(bytes, field.start, field.end);
    if (!isNaN(n)) return n;
  }
  return replyFromBytes(name, bytes, false).getNumber(key);
}

function replyFromBytes(name: string, bytes: Uint8Array, allowError: bool): Json {
  const text = bytes.length == 0 ? "{}" : String.UTF8.decode(bytes.buffer);
  const parsed = parseJson(text);
  if (!parsed.ok) fail("host function " + name + " answered malformed JSON: " + parsed.error);
  const reply = parsed.value;
  if (!allowError && reply.has("error")) fail(reply.getString("error", "host function " + name + " failed"));
  return reply;
}
