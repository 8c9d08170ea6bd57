// HCL text for the JSON → HCL2 upgrade, written the way Packer's upgrader writes it (hclwrite:
// values as literals, sorted object keys, nested blocks for objects); the upgrader then lays it out
// with hcl's formatter (hclwrite.Format), so the output matches Packer's byte for byte.
import { quoteString } from "../../../hcl/index.ts";
import type { JsonValue } from "../../../values/json.ts";

type Item = { kind: "line"; text: string } | { kind: "block"; type: string; labels: string[]; body: HclBodyText };

/** A body being written: attributes and nested blocks, in the order they are added. */
export class HclBodyText {
  private readonly items: Item[] = [];

  attr(name: string, value: JsonValue): this {
    return this.rawAttr(name, valueText(value));
  }

  /** An attribute whose value is written as is (e.g. `type = string`). */
  rawAttr(name: string, raw: string): this {
    this.items.push({ kind: "line", text: `${name} = ${raw}` });
    return this;
  }

  block(type: string, labels: string[] = []): HclBodyText {
    const body = new HclBodyText();
    this.items.push({ kind: "block", type, labels, body });
    return body;
  }

  newline(): this {
    this.items.push({ kind: "line", text: "" });
    return this;
  }

  text(): string {
    return this.items.map((i) => `${i.kind === "line" ? i.text : blockText(i.type, i.labels, i.body)}\n`).join("");
  }
}

export function blockText(type: string, labels: string[], body: HclBodyText): string {
  const head = [type, ...labels.map((l) => JSON.stringify(l))].join(" ");
  return `${head} {\n${body.text()}}`;
}

/** hclwrite's literal for a value: strings escaped (including `${` and `%{`), objects multi-line. */
export function valueText(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "string") return quoteString(v);
  if (typeof v === "number") return numberText(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(valueText).join(", ")}]`;
  const keys = Object.keys(v).sort();
  if (keys.length === 0) return "{}";
  return `{\n${keys.map((k) => `${isIdentifier(k) ? k : quoteString(k)} = ${valueText(v[k]!)}\n`).join("")}}`;
}

function numberText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString();
  const s = String(n);
  if (!s.includes("e")) return s;
  // Go prints plain decimals ('f' format), never exponents.
  return n.toFixed(20).replace(/\.?0+$/, "");
}

function isIdentifier(s: string): boolean {
  return /^[\p{L}_][\p{L}\p{N}_-]*$/u.test(s);
}

