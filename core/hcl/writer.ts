// Builds HCL native-syntax text from code (like hclwrite's NewEmptyFile / SetAttributeValue /
// AppendNewBlock) and renders it canonically formatted. Used by the JSON → HCL2 upgrade.
import type { JsonValue } from "../values/json.ts";
import { formatTokens, tokensOf } from "./format.ts";
import { primitiveText, quoteString } from "./text.ts";
import { V, Value, fromJson } from "./value.ts";

type Item =
  | { kind: "attr"; name: string; expr: string }
  | { kind: "block"; body: WriterBody; type: string; labels: string[] }
  | { kind: "blank" }
  | { kind: "comment"; text: string };

const IDENT = /^[\p{ID_Start}_][\p{ID_Continue}-]*$/u;

/** Renders a value as an HCL expression (lists inline, objects one attribute per line). */
export function renderValue(v: Value, indent = ""): string {
  if (!v.isKnown) throw new Error("cannot render an unknown value");
  if (v.isNull) return "null";
  const k = v.type.kind;
  if (k === "list" || k === "set" || k === "tuple") return "[" + v.elems.map((e) => renderValue(e, indent)).join(", ") + "]";
  if (k === "map" || k === "object") {
    if (v.attrs.size === 0) return "{}";
    const inner = indent + "  ";
    const lines = [...v.attrs].map(([key, e]) => `${inner}${IDENT.test(key) ? key : quoteString(key)} = ${renderValue(e, inner)}`);
    return "{\n" + lines.join("\n") + "\n" + indent + "}";
  }
  return primitiveText(v, quoteString) ?? "null";
}

export class WriterBody {
  readonly items: Item[] = [];

  /** Sets an attribute to a value (HCL Value or plain JSON). */
  attribute(name: string, value: Value | JsonValue): this {
    const v = value instanceof Value ? value : fromJson(value);
    this.items.push({ kind: "attr", name, expr: renderValue(v) });
    return this;
  }
  /** Sets an attribute to expression source written verbatim (e.g. `"${var.region}"`, `upper(x)`). */
  attributeRaw(name: string, expr: string): this {
    this.items.push({ kind: "attr", name, expr });
    return this;
  }
  /** Appends a nested block and returns its body. */
  block(type: string, labels: string[] = []): WriterBody {
    const body = new WriterBody();
    this.items.push({ kind: "block", body, type, labels });
    return body;
  }
  blankLine(): this {
    this.items.push({ kind: "blank" });
    return this;
  }
  /** Adds `# text` comment lines (text may contain newlines). */
  comment(text: string): this {
    this.items.push({ kind: "comment", text });
    return this;
  }

  render(indent = ""): string {
    let out = "";
    for (const it of this.items) {
      switch (it.kind) {
        case "attr":
          out += `${indent}${IDENT.test(it.name) ? it.name : quoteString(it.name)} = ${it.expr}\n`;
          break;
        case "blank":
          out += "\n";
          break;
        case "comment":
          for (const l of it.text.split("\n")) out += `${indent}# ${l}`.trimEnd() + "\n";
          break;
        case "block": {
          const labels = it.labels.map((l) => " " + quoteString(l)).join("");
          const inner = it.body.render(indent + "  ");
          out += inner ? `${indent}${it.type}${labels} {\n${inner}${indent}}\n` : `${indent}${it.type}${labels} {\n${indent}}\n`;
          break;
        }
      }
    }
    return out;
  }
}

/** A file being written: a root body rendered with canonical formatting. */
export class HclWriter {
  readonly body = new WriterBody();
  toString(): string {
    return formatTokens(tokensOf(this.body.render()));
  }
}

export { V };
