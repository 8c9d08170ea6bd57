// Legacy JSON templates read through the one positioned JSON scanner (core/source/positioned-json.ts),
// whose syntax errors already carry Go's wording and offsets (syntax-error.ts adds Packer's excerpt).
// Here: what the template loader needs on top of it.
import type { JsonValue } from "../../values/json.ts";
import type { JsonMember, JsonNode, JsonStringNode } from "../../source/positioned-json.ts";

export {
  parseJson,
  type JsonNode,
  type JsonStringNode,
  type JsonNumberNode,
  type JsonBoolNode,
  type JsonNullNode,
  type JsonArrayNode,
  type JsonObjectNode,
  type JsonMember,
  type JsonSyntaxError,
  type JsonParseResult,
} from "../../source/positioned-json.ts";

/** The plain value of a node (positions dropped). */
export function toJsonValue(node: JsonNode): JsonValue {
  switch (node.kind) {
    case "string":
    case "number":
    case "bool":
      return node.value;
    case "null":
      return null;
    case "array":
      return node.items.map(toJsonValue);
    case "object": {
      const out: { [k: string]: JsonValue } = {};
      for (const [k, m] of node.members) out[k] = toJsonValue(m.value);
      return out;
    }
  }
}

/** Duplicated keys reported one by one; past this many, the rest are counted in one diagnostic. */
export const MAX_DUPLICATES_REPORTED = 100;

/** Every duplicated key anywhere under node (objects first to last, outer before inner). */
export function collectDuplicates(node: JsonNode, into: JsonMember[] = []): JsonMember[] {
  if (node.kind === "array") for (const it of node.items) collectDuplicates(it, into);
  else if (node.kind === "object") {
    for (const d of node.duplicates) into.push(d);
    for (const m of node.members.values()) collectDuplicates(m.value, into);
  }
  return into;
}

/** The first MAX_DUPLICATES_REPORTED duplicated keys, and how many more there are. */
export function reportedDuplicates(node: JsonNode): { shown: JsonMember[]; more: number } {
  const all = collectDuplicates(node);
  return { shown: all.slice(0, MAX_DUPLICATES_REPORTED), more: Math.max(0, all.length - MAX_DUPLICATES_REPORTED) };
}

/**
 * The UTF-16 source offset of character `index` of a string node's decoded value. Escapes make
 * the two differ; positions inside a template string (a `{{ }}` error) need the source one.
 */
export function stringValueOffset(text: string, node: JsonStringNode, index: number): number {
  if (!node.escaped) return node.start + 1 + index;
  let src = node.start + 1;
  let decoded = 0;
  while (decoded < index && src < node.end - 1) {
    if (text[src] === "\\") src += text[src + 1] === "u" ? 6 : 2;
    else src++;
    decoded++;
  }
  return src;
}
