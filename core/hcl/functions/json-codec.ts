// JSON and YAML encoding of values, in cty's style: object keys sorted, numbers in shortest
// exact decimal form, and Go's HTML-safe escaping of <, >, & in JSON strings.
import { LIMITS, nestingDepth, nestingMessage } from "../../values/limits.ts";
import { FunctionError } from "../context.ts";
import { JsonExpression, parseJsonNode } from "../json.ts";
import { jsonString, primitiveText, yamlQuote } from "../text.ts";
import { V, Value } from "../value.ts";

export function jsonEncode(v: Value): string {
  if (!v.isKnown) throw new FunctionError("value is not yet known");
  if (v.isNull) return "null";
  const k = v.type.kind;
  if (k === "list" || k === "set" || k === "tuple") return "[" + v.elems.map(jsonEncode).join(",") + "]";
  if (k === "map" || k === "object") return "{" + [...v.attrs].map(([key, e]) => jsonString(key) + ":" + jsonEncode(e)).join(",") + "}";
  const text = primitiveText(v, jsonString);
  if (text === undefined) throw new FunctionError("value of dynamic type cannot be encoded");
  return text;
}

export function jsonDecode(src: string): Value {
  const { node, error } = parseJsonNode(src, "<jsondecode>");
  if (!node) throw new FunctionError(error ?? "invalid JSON");
  // Without a context, a JSON expression is its literal value (strings are not templates).
  return new JsonExpression(node).evaluate().value;
}

/** yamlencode: block style, double-quoted strings (like cty's yaml.v2 based encoder). */
export function yamlEncode(v: Value): string {
  return yamlNode(v, 0, false) + "\n";
}

function isScalarOrEmpty(v: Value): boolean {
  const k = v.type.kind;
  if (v.isNull) return true;
  if (k === "list" || k === "set" || k === "tuple") return v.elems.length === 0;
  if (k === "map" || k === "object") return v.attrs.size === 0;
  return true;
}

function yamlScalar(v: Value): string {
  if (v.isNull) return "null";
  const k = v.type.kind;
  return primitiveText(v, yamlQuote) ?? (k === "list" || k === "set" || k === "tuple" ? "[]" : "{}");
}

/** Renders a value; nested collections start on a new line. */
function yamlNode(v: Value, indent: number, inSeq: boolean): string {
  if (!v.isKnown) throw new FunctionError("value is not yet known");
  if (isScalarOrEmpty(v)) return yamlScalar(v);
  const pad = " ".repeat(indent);
  const k = v.type.kind;
  const lines: string[] = [];
  if (k === "list" || k === "set" || k === "tuple") {
    for (const e of v.elems) {
      if (isScalarOrEmpty(e)) lines.push(`${pad}- ${yamlScalar(e)}`);
      else {
        const inner = yamlNode(e, indent + 2, true);
        lines.push(`${pad}- ${inner.slice(indent + 2)}`);
      }
    }
  } else {
    for (const [key, e] of v.attrs) {
      const kq = yamlQuote(key);
      if (isScalarOrEmpty(e)) lines.push(`${pad}${kq}: ${yamlScalar(e)}`);
      else {
        const ek = e.type.kind;
        const seq = ek === "list" || ek === "set" || ek === "tuple";
        // yaml.v2 puts sequences under a key at the key's own indentation.
        const inner = yamlNode(e, seq ? indent : indent + 2, false);
        lines.push(`${pad}${kq}:\n${inner}`);
      }
    }
  }
  void inSeq;
  return lines.join("\n");
}

/** yamldecode via Bun's YAML parser, then to values (mappings → objects, sequences → tuples). */
export function yamlDecode(src: string): Value {
  const Y = (Bun as unknown as { YAML?: { parse(s: string): unknown } }).YAML;
  if (!Y) throw new FunctionError("YAML support is not available in this runtime");
  let parsed: unknown;
  try {
    parsed = Y.parse(src);
    // Self-referencing anchors parse into cyclic structures; reject them like cty does.
    JSON.stringify(parsed, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  } catch (e) {
    if (e instanceof RangeError || (e instanceof TypeError && /cyclic|circular/i.test(e.message))) {
      throw new FunctionError("cannot refer to an anchor from inside its own definition");
    }
    throw new FunctionError((e as Error).message);
  }
  if (nestingDepth(parsed) > LIMITS.maxNesting) throw new FunctionError(nestingMessage("the YAML document"));
  // Aliases let a small document stand for a huge one (YAML's billion laughs): count what is built.
  const budget = { left: LIMITS.maxCollectionLength };
  return fromUnknown(parsed, budget);
}

function fromUnknown(x: unknown, budget: { left: number }): Value {
  if (--budget.left < 0) throw new FunctionError(`the YAML document expands to more than ${LIMITS.maxCollectionLength} values`);
  if (x === null || x === undefined) return V.null();
  if (typeof x === "string") return V.string(x);
  if (typeof x === "number") {
    if (!Number.isFinite(x)) throw new FunctionError("cannot represent non-finite number");
    return V.number(x);
  }
  if (typeof x === "bigint") return V.number(x);
  if (typeof x === "boolean") return V.bool(x);
  if (x instanceof Date) return V.string(x.toISOString());
  if (Array.isArray(x)) return V.tuple(x.map((e) => fromUnknown(e, budget)));
  if (typeof x === "object") {
    const m = new Map<string, Value>();
    for (const [k, e] of Object.entries(x as Record<string, unknown>)) m.set(k, fromUnknown(e, budget));
    return V.object(m);
  }
  throw new FunctionError("unsupported YAML value");
}
