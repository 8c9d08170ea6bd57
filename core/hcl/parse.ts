// Entry points: parse a file or an expression into the Body / Expression API.
import type { Diagnostic } from "../errors/diagnostic.ts";
import type { BodyNode } from "./ast.ts";
import { NativeBody, NativeExpression, type Body, type Expression } from "./body.ts";
import { parseConfigNode, parseExpressionNode, parseTemplateNode } from "./parser.ts";

export interface HclFile {
  filename: string;
  body: Body;
  /** The syntax tree, for native-syntax files (the formatter and tools may want it). */
  node?: BodyNode;
}

/** Parses a native-syntax (`.hcl`) config file. The body is usable even when there are errors. */
export function parseHcl(src: string, filename: string): { file: HclFile; diagnostics: Diagnostic[] } {
  const { node, diagnostics } = parseConfigNode(stripBom(src), filename);
  return { file: { filename, body: new NativeBody(node), node }, diagnostics };
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

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}
