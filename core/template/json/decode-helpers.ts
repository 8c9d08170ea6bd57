// The template's own keys (description, builders' names, post-processor keys, ...) decoded at their
// JSON nodes with mapstructure's two modes: strict (Packer's root keys and post-processors) and weak
// (builders and provisioners). Weak conversion and the messages are the config decoder's
// (core/config); only the strict mode and the node positions are added here.
import { convert } from "../../config/decode.ts";
import { goJsonType as goType, issueMessage } from "../../config/messages.ts";
import { toJsonValue, type JsonNode } from "./positioned-json.ts";

/** The Go type encoding/json gives a value, for mapstructure-style messages. */
export function goJsonType(node: JsonNode): string {
  return goType(toJsonValue(node));
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string; node: JsonNode };

function weak<T>(type: "string" | "bool", node: JsonNode, key: string): Decoded<T> {
  const c = convert(type, toJsonValue(node), [key]);
  return c.ok ? { ok: true, value: c.value as T } : { ok: false, error: issueMessage(c.issue), node };
}

const strictError = (key: string, want: string, node: JsonNode): Decoded<never> => ({
  ok: false,
  error: issueMessage({ kind: "unconvertible", path: [key], want: want as "string", got: toJsonValue(node) }),
  node,
});

export function decodeString(node: JsonNode, key: string, isWeak: boolean): Decoded<string> {
  if (node.kind === "string") return { ok: true, value: node.value };
  // null decodes to the zero value.
  if (isWeak && node.kind === "null") return { ok: true, value: "" };
  return isWeak ? weak("string", node, key) : strictError(key, "string", node);
}

export function decodeStringList(node: JsonNode, key: string, isWeak: boolean): Decoded<string[]> {
  if (node.kind === "null") return { ok: true, value: [] };
  if (node.kind !== "array") {
    // No StringToSlice hook for the template's own keys: a single value is a list of one.
    if (!isWeak) return { ok: false, error: `'${key}': source data must be an array or slice, got ${goJsonType(node)}`, node };
    const one = decodeString(node, `${key}[0]`, true);
    return one.ok ? { ok: true, value: [one.value] } : one;
  }
  const out: string[] = [];
  for (let i = 0; i < node.items.length; i++) {
    const item = decodeString(node.items[i] as JsonNode, `${key}[${i}]`, isWeak);
    if (!item.ok) return item;
    out.push(item.value);
  }
  return { ok: true, value: out };
}

export function decodeBool(node: JsonNode, key: string, isWeak: boolean): Decoded<boolean> {
  if (node.kind === "bool") return { ok: true, value: node.value };
  return isWeak ? weak("bool", node, key) : strictError(key, "bool", node);
}
