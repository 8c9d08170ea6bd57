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
