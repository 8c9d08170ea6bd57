// The one gate every host call of a plugin goes through (docs/plugin-abi.md §3), in this order: the
// message limit, the name (table.ts), the phase (pure functions only outside run), every capability
// the function needs (declared and granted), JSON (nested at most LIMITS.maxNesting levels), the
// request schema (valibot), the UI rate; then
// the function's handler. A refusal is recorded on the call (it fails with it whatever the plugin does
// next); every outcome is answered as JSON, {"error": ...} for refusals and failures.
import * as v from "valibot";
import type { HostCallContext } from "./context.ts";
import { HOST_FUNCTION_TABLE, isHostFunction, type Handler, type Handlers, type JsonFunction, type JsonFunctionName } from "./table.ts";
import { HostFailure, Refusal } from "./refusal.ts";
import { UnsafeTarget } from "./paths.ts";
import { HOST_HANDLERS } from "./handlers.ts";
import { STREAM_HANDLERS } from "../streams/handlers.ts";
import { describeIssues } from "../../errors/valibot-issues.ts";
import { LIMITS, nestingDepth, nestingMessage } from "../../values/limits.ts";

/** One handler for every JSON function of the table (the compiler checks none is missing). */
const HANDLERS: Handlers = { ...HOST_HANDLERS, ...STREAM_HANDLERS };

function phaseWord(ctx: HostCallContext): string {
  return ctx.phase === "describe" ? "describe" : "prepare";
}

/** Lines a UI request puts on the terminal (a line break or lone CR starts one). */
function uiLines(req: unknown): number {
  const text = req && typeof req === "object" ? ((req as { message?: unknown; label?: unknown }).message ?? (req as { label?: unknown }).label) : undefined;
  if (typeof text !== "string") return 1;
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  for (let i = text.indexOf("\r"); i !== -1; i = text.indexOf("\r", i + 1)) n++;
  return n;
}

/** Serves one host call. Never throws: every outcome is a JSON reply. */
export async function handleHostCall(ctx: HostCallContext, fn: string, payload: string): Promise<string> {
  try {
    return JSON.stringify(await dispatch(ctx, fn, payload));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof Refusal) ctx.refusal ??= message;
    ctx.lastError = message;
    return JSON.stringify({ error: message });
  }
}

async function dispatch(ctx: HostCallContext, fn: string, payload: string): Promise<object> {
  if (payload.length > ctx.limits.messageBytes || payload.startsWith('{"__oversized":')) {
    throw new Refusal(`host call ${fn}: request is over the message limit of ${ctx.limits.messageBytes} bytes`);
  }
  const entry = isHostFunction(fn) ? HOST_FUNCTION_TABLE[fn] : undefined;
  if (!entry || entry.kind !== "json") throw new Refusal(`unknown host function ${fn}`);
  const name = fn as JsonFunctionName;
  const spec: JsonFunction = entry;
  const caps = spec.capabilities;
  if (ctx.phase !== "run" && !spec.pure) {
    const what = caps.length > 0 ? `capability ${caps[0]}` : `host function ${name}`;
    throw new Refusal(`${what} refused during ${phaseWord(ctx)}: ${phaseWord(ctx)} must have no side effects`);
  }
  for (const cap of caps) {
    if (!ctx.granted.has(cap)) throw new Refusal(`capability ${cap} refused: not granted to this plugin (${name})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    throw new Refusal(`host call ${name}: request is not JSON`);
  }
  // Deeper than any real request; evaluators that walk it (template_render's data) would overflow the stack.
  if (nestingDepth(raw) > LIMITS.maxNesting) throw new Refusal(`host call ${name}: ${nestingMessage("the request")}`);
  const parsed = v.safeParse(spec.request, raw);
  if (!parsed.success) {
    const issue = describeIssues(parsed.issues, 1);
    throw new Refusal(`host call ${name}: malformed request${issue.startsWith("at ") ? " " : ": "}${issue}`);
  }
  // A message costs one token per line it shows: one call of 16 MiB of line breaks was 16 million lines.
  if (spec.uiRate && !ctx.ui_bucket.take(uiLines(parsed.output))) {
    throw new Refusal(`too many UI messages (limit ${ctx.limits.uiBurst} at once, ${ctx.limits.uiPerSecond} a second)`);
  }
  try {
    return await (HANDLERS[name] as Handler<JsonFunctionName>)(ctx, parsed.output as never);
  } catch (e) {
    if (e instanceof Refusal || e instanceof HostFailure) throw e;
    // A link planted where a file is written: refused, whatever the handler was doing.
    if (e instanceof UnsafeTarget) throw new Refusal(`${name} refused: ${e.message}`);
    throw new HostFailure(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
