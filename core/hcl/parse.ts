// Entry points: parse a file or an expression into the Body / Expression API.
import type { Diagnostic } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import { SourceFile } from "../source/source-file.ts";
import type { BodyNode } from "./ast.ts";
import { NativeBody, NativeExpression, type Body, type Expression } from "./body.ts";
import { parseConfigNode, parseExpressionNode, parseTemplateNode } from "./parser.ts";

export interface HclFile {
  filename: string;
  body: Body;
  /** The syntax tree, for native-syntax files (the formatter and tools may want it). */
  node?: BodyNode;
}

/**
 * Parses a native-syntax (`.hcl`) config file. The body is usable even when there are errors.
 * Pass the raw bytes to get HCL's "invalid UTF-8 is a parse error" check.
 */
export function parseHcl(src: string | Uint8Array, filename: string): { file: HclFile; diagnostics: Diagnostic[] } {
  let text: string;
  if (typeof src === "string") text = src;
  else {
    const bad = firstInvalidUtf8(src);
    if (bad !== undefined) {
      const before = new TextDecoder().decode(src.subarray(0, bad));
      const pos = { ...new SourceFile(filename, before).pos(before.length), byte: bad };
      const { node } = parseConfigNode("", filename);
      return {
        file: { filename, body: new NativeBody(node), node },
        diagnostics: [
          errorDiag("Invalid character encoding", { filename, start: pos, end: { ...pos, column: pos.column + 1, byte: bad + 1 } }, "All input files must be UTF-8 encoded. Ensure that UTF-8 encoding is selected in your editor."),
        ],
      };
    }
    text = new TextDecoder().decode(src);
  }
  if (text.charCodeAt(0) === 0xfeff) {
    // spec: byte order marks are not permitted. Report it, and parse the rest for the caller.
    const { node, diagnostics } = parseConfigNode(text.slice(1), filename, { line: 1, column: 2, byte: 3 });
    const at = { line: 1, column: 1, byte: 0 };
    return {
      file: { filename, body: new NativeBody(node), node },
      diagnostics: [
        errorDiag("Invalid character", { filename, start: at, end: { line: 1, column: 2, byte: 3 } }, "UTF-8 byte order marks are not permitted; save the file without one."),
        ...diagnostics,
      ],
    };
  }
  const { node, diagnostics } = parseConfigNode(text, filename);
  return { file: { filename, body: new NativeBody(node), node }, diagnostics };
}

/** Byte offset of the first invalid UTF-8 sequence, or undefined when the input is valid. */
export function firstInvalidUtf8(b: Uint8Array): number | undefined {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    if (i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return undefined;
}

/** Parses one native-syntax expression, e.g. a `-var` value or a type expression. */
export function parseExpression(
  src: string,
  filename: string,
  base?: { line: number; column: number; byte: number },
): { expr: Expression; diagnostics: Diagnostic[] } {
  const { node, diagnostics } = parseExpressionNode(src, filename, base);
  return { expr: new NativeExpression(node), diagnostics };
}

/** Parses a bare template (the content of a string without quotes), e.g. templatefile() input. */
export function parseTemplate(
  src: string,
  filename: string,
  base?: { line: number; column: number; byte: number },
): { expr: Expression; diagnostics: Diagnostic[] } {
  const { node, diagnostics } = parseTemplateNode(src, filename, base);
  return { expr: new NativeExpression(node), diagnostics };
}

