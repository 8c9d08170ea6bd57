// HCL text for the JSON → HCL2 upgrade, written the way Packer's upgrader writes it (hclwrite:
// values as literals, sorted object keys, nested blocks for objects) and then laid out by a small
// canonical formatter (hclwrite.Format's indentation and `=` alignment), so the output matches
// Packer's byte for byte.
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
  if (typeof v === "string") return `"${escapeString(v)}"`;
  if (typeof v === "number") return numberText(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(valueText).join(", ")}]`;
  const keys = Object.keys(v).sort();
  if (keys.length === 0) return "{}";
  return `{\n${keys.map((k) => `${isIdentifier(k) ? k : `"${escapeString(k)}"`} = ${valueText(v[k]!)}\n`).join("")}}`;
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

export function escapeString(s: string): string {
  let out = "";
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    switch (c) {
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      case '"':
        out += '\\"';
        break;
      case "\\":
        out += "\\\\";
        break;
      case "$":
      case "%":
        out += c;
        if (chars[i + 1] === "{") out += c;
        break;
      default: {
        const cp = c.codePointAt(0)!;
        if (!isPrintable(c)) out += cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, "0")}` : `\\U${cp.toString(16).padStart(8, "0")}`;
        else out += c;
      }
    }
  }
  return out;
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrintable(c: string): boolean {
  return c === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(c);
}

/**
 * hclwrite.Format for the text the upgrader produces: indentation from bracket nesting (two spaces
 * a level, comments included), and `=` aligned across runs of consecutive one-line attributes.
 */
export function formatHclText(src: string): string {
  const lines = src.split("\n");
  interface Line {
    indent: number;
    lead: string;
    assign?: string;
  }
  const out: Line[] = [];
  let depth = 0;
  for (const raw of lines) {
    const text = raw.trim();
    const scan = scanLine(text);
    const indent = Math.max(0, depth - scan.leadingClosers);
    depth = Math.max(0, depth + scan.delta);
    const line: Line = { indent, lead: text };
    if (scan.equalsAt > 0 && scan.bracketsAfterEquals === 0) {
      line.lead = text.slice(0, scan.equalsAt).trimEnd();
      line.assign = text.slice(scan.equalsAt + 1).trimStart();
    }
    out.push(line);
  }
  // Align the `=` of each run of consecutive assignment lines.
  for (let i = 0; i < out.length; ) {
    if (out[i]!.assign === undefined) {
      i++;
      continue;
    }
    let j = i;
    let width = 0;
    while (j < out.length && out[j]!.assign !== undefined) width = Math.max(width, [...out[j++]!.lead].length);
    for (let k = i; k < j; k++) {
      const l = out[k]!;
      l.lead = `${l.lead}${" ".repeat(width - [...l.lead].length)} = ${l.assign}`;
      l.assign = undefined;
    }
    i = j;
  }
  return out.map((l) => (l.lead === "" ? "" : `${"  ".repeat(l.indent)}${l.lead}`)).join("\n");
}

/** Bracket structure of one line, skipping strings and comments. */
function scanLine(text: string): { delta: number; leadingClosers: number; equalsAt: number; bracketsAfterEquals: number } {
  let delta = 0;
  let leadingClosers = 0;
  let sawOther = false;
  let equalsAt = -1;
  let afterEquals = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "#" || (c === "/" && text[i + 1] === "/")) break;
    if (c === '"') {
      sawOther = true;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      continue;
    }
    if (c === "{" || c === "[" || c === "(") {
      delta++;
      if (equalsAt >= 0) afterEquals++;
      sawOther = true;
    } else if (c === "}" || c === "]" || c === ")") {
      delta--;
      if (equalsAt >= 0) afterEquals--;
      if (!sawOther) leadingClosers++;
    } else if (c === "=" && equalsAt < 0 && delta === 0 && text[i + 1] !== "=" && text[i - 1] !== "=" && text[i - 1] !== "!" && text[i - 1] !== "<" && text[i - 1] !== ">") {
      equalsAt = i;
      sawOther = true;
    } else if (c !== " " && c !== "\t") sawOther = true;
  }
  return { delta, leadingClosers, equalsAt, bracketsAfterEquals: afterEquals };
}
