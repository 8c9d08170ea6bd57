// Messages between the plugin host (parent) and the sandbox child, sent as JSON over Bun IPC.
// The child is the same trusted binary, but it runs untrusted wasm, so the parent still validates
// everything it receives from it.
import * as v from "valibot";

export interface LoadMessage {
  t: "load";
  plugin: string;
  wasmBase64: string;
  /** Cap for the module's linear memory, in 64 KiB pages. */
  memoryMaxPages: number;
  /** Largest export output or host-call request, in bytes. */
  messageLimit: number;
}

export interface CallMessage {
  t: "call";
  id: number;
  fn: string;
  input: string;
}

export interface HostReplyMessage {
  t: "reply";
  id: number;
  payload: string;
}

export type ParentMessage = LoadMessage | CallMessage | HostReplyMessage;

export const ChildMessageSchema = v.variant("t", [
  v.object({ t: v.literal("loaded"), imports: v.array(v.string()), exports: v.array(v.string()) }),
  v.object({ t: v.literal("load_error"), message: v.string() }),
  v.object({ t: v.literal("host"), id: v.number(), fn: v.string(), payload: v.string() }),
  v.object({ t: v.literal("result"), id: v.number(), ok: v.literal(true), output: v.string() }),
  v.object({
    t: v.literal("result"),
    id: v.number(),
    ok: v.literal(false),
    /** plugin: error_set; trap: the module trapped; limit: a sandbox limit was hit in the child;
     status: the export returned non-zero without error_set. */
    kind: v.picklist(["plugin", "trap", "limit", "status"]),
    error: v.string(),
  }),
]);
export type ChildMessage = v.InferOutput<typeof ChildMessageSchema>;

/** The host functions of ABI imgb-plugin/1 (namespace extism:host/user). */
export const HOST_FUNCTIONS = [
  "ui_say",
  "ui_message",
  "ui_error",
  "ui_ask",
  "ui_progress",
  "template_render",
  "comm_start",
  "comm_upload",
  "comm_upload_dir",
  "comm_download",
  "comm_download_dir",
  "local_exec",
  "local_file_read",
  "local_file_write",
  "temp_file",
  "artifact_read",
  "artifact_write",
  "image_tag",
  "image_save",
  "image_import",
  "image_push",
  "comm_proxy_open",
  "comm_proxy_close",
  "plugin_error",
  // Streaming post-processor primitives (core/plugin/streams/host-functions.ts).
  "hash_files",
  "compress_files",
  "files_stat",
  "output_file_read",
  "output_file_swap",
  "output_file_append",
  // Clock (pure; `now` is served in the child, `sleep` in the parent for the abort signal).
  "now",
  "sleep",
  // Byte handles: opened in the parent (grant check), read and written in the child.
  "artifact_open",
  "artifact_create",
  "artifact_pread",
  "artifact_pwrite",
  "artifact_close",
  // Whole memory blocks to and from the plugin's linear memory (pure; served in the child).
  "block_read",
  "block_write",
] as const;
export type HostFunctionName = (typeof HOST_FUNCTIONS)[number];

/** Host functions the child serves itself: no grant decision, no IPC round trip. */
export const CHILD_FUNCTIONS: ReadonlySet<string> = new Set(["now", "artifact_pread", "artifact_pwrite", "artifact_close", "block_read", "block_write"]);

export function isHostFunction(name: string): name is HostFunctionName {
  return (HOST_FUNCTIONS as readonly string[]).includes(name);
}
