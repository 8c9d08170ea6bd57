// Go's json.MarshalIndent(v, "", "  ") for the manifest, byte for byte: keys in the order given,
// `": "` after keys, empty arrays/objects as [] / {}, and Go's string escaping (<, >, & and
// U+2028/U+2029 as \u escapes; control characters other than \n \r \t as \u00XX).
import { Json, JsonKind, formatNumber } from "../../sdk/assembly/json";

const HEX = "0123456789abcdef";

function hex4(c: i32): string {
  return "\\u" + HEX.charAt((c >> 12) & 15) + HEX.charAt((c >> 8) & 15) + HEX.charAt((c >> 4) & 15) + HEX.charAt(c & 15);
}

export function goQuote(s: string): string {
  const parts = new Array<string>();
  parts.push('"');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) parts.push('\\"');
    else if (c == 0x5c) parts.push("\\\\");
    else if (c == 0x0a) parts.push("\\n");
    else if (c == 0x0d) parts.push("\\r");
    else if (c == 0x09) parts.push("\\t");
    else if (c < 0x20 || c == 0x3c || c == 0x3e || c == 0x26 || c == 0x2028 || c == 0x2029) parts.push(hex4(c));
    else parts.push(String.fromCharCode(c));
  }
  parts.push('"');
  return parts.join("");
}

function write(v: Json, indent: string, out: Array<string>): void {
  switch (v.kind) {
    case JsonKind.Null:
      out.push("null");
      break;
    case JsonKind.Bool:
      out.push(v.b ? "true" : "false");
      break;
    case JsonKind.Number:
      out.push(formatNumber(v.n));
      break;
    case JsonKind.String:
      out.push(goQuote(v.s));
      break;
    case JsonKind.Array: {
      if (v.items.length == 0) {
        out.push("[]");
        break;
      }
      const inner = indent + "  ";
      out.push("[\n");
      for (let i = 0; i < v.items.length; i++) {
        out.push(inner);
        write(v.items[i], inner, out);
        out.push(i + 1 < v.items.length ? ",\n" : "\n");
      }
      out.push(indent + "]");
      break;
    }
    case JsonKind.Object: {
      if (v.keys.length == 0) {
        out.push("{}");
        break;
      }
      const inner = indent + "  ";
      out.push("{\n");
      for (let i = 0; i < v.keys.length; i++) {
        const k = v.keys[i];
        out.push(inner + goQuote(k) + ": ");
        write(v.values.get(k), inner, out);
        out.push(i + 1 < v.keys.length ? ",\n" : "\n");
      }
      out.push(indent + "}");
      break;
    }
  }
}

export function marshalIndent(v: Json): string {
  const out = new Array<string>();
  write(v, "", out);
  return out.join("");
}
