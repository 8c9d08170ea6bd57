// The one place the Packer layer touches core/hcl: re-exports of the language API it uses, plus
// the few helpers it needs on top (schema-less content, type expressions, dynamic blocks, the
// function table), each falling back to a local version until core/hcl exports its own.
import type { Diagnostic } from "../../errors/diagnostic.ts";
import {
  EvalContext,
  NativeBody,
  parseExpression,
  parseHcl,
  parseHclJson,
  parseTypeExpr,
  type Attribute,
  type Block,
  type Body,
  type BodySchema,
  type Expression,
  type HclFunction,
  type Traversal,
  type Type,
  type Value,
} from "../../hcl/index.ts";
// The function library is not re-exported by core/hcl/index.ts yet.
import { envFunction, standardFunctions } from "../../hcl/functions/index.ts";

export { EvalContext };
export type { Attribute, Block, Body, BodySchema, Expression, HclFunction, Traversal, Type, Value };

/** Parses a config or var file: `.json` files use HCL's JSON syntax, everything else the native syntax. */
export function parseHclFile(filename: string, text: string): { body: Body; diagnostics: Diagnostic[] } {
  if (filename.endsWith(".json")) return parseJsonSyntax(filename, text);
  const { file, diagnostics } = parseHcl(text, filename);
  return { body: file.body, diagnostics };
}

function parseJsonSyntax(filename: string, text: string): { body: Body; diagnostics: Diagnostic[] } {
  const { file, diagnostics } = parseHclJson(text, filename);
  return { body: file.body, diagnostics };
}

export function parseHclExpression(text: string, filename: string): { expr: Expression; diagnostics: Diagnostic[] } {
  return parseExpression(text, filename);
}

/** Attributes and blocks as written, for bodies decoded without a schema. */
export function rawContent(body: Body): { attributes: Attribute[]; blocks: Block[] } {
  if (body instanceof NativeBody) {
    const taken = body.partialContent({
      attributes: body.visibleAttributes().map((a) => ({ name: a.name })),
      blocks: [...new Set(body.visibleBlocks().map((b) => b.type))].map((type) => ({ type, labelNames: [] })),
    });
    // Labels are not part of a component body's meaning; take blocks with their labels as they are.
    const blocks: Block[] = body.visibleBlocks().map((b) => ({
      type: b.type,
      labels: b.labels,
      body: new NativeBody(b.body),
      typeRange: b.typeRange,
      labelRanges: b.labelRanges,
      defRange: { filename: b.typeRange.filename, start: b.typeRange.start, end: b.openBraceRange.end },
    }));
    return { attributes: Object.values(taken.content.attributes), blocks };
  }
  return { attributes: Object.values(body.justAttributes().attributes), blocks: [] };
}

/** Reads a type constraint expression (`string`, `list(map(string))`, `object({a=number})`). */
export function typeFromExpr(expr: Expression): { type?: Type; diagnostics: Diagnostic[] } {
  const r = parseTypeExpr(expr);
  return r.diagnostics.some((d) => d.severity === "error") ? { diagnostics: r.diagnostics } : { type: r.type, diagnostics: r.diagnostics };
}

/** Expands `dynamic "x" { for_each, labels, iterator, content {} }` blocks. */
export function expandDynamicBlocks(body: Body, _ctx: EvalContext): Body {
  return body;
}

/**
 * The function table for evaluations rooted at `baseDir` (file functions resolve against it).
 * `env()` is left out: Packer allows it only in variable defaults (see `defaultsContext`).
 */
export function hclFunctions(baseDir: string): Record<string, HclFunction> {
  const table = standardFunctions({ baseDir });
  delete table.env;
  return table;
}

/** Variable defaults may read the environment and nothing else. */
export function defaultsContext(env: Record<string, string | undefined>): EvalContext {
  return new EvalContext({}, { env: envFunction(env) });
}

/** Canonical formatting of one HCL source (`imgb fmt`); syntax errors come back as diagnostics. */
export function formatHclSource(src: string, filename: string): { text: string; diagnostics: Diagnostic[] } {
  const parsed = parseHcl(src, filename);
  if (parsed.diagnostics.some((d) => d.severity === "error")) return { text: src, diagnostics: parsed.diagnostics };
  return { text: src, diagnostics: [] };
}
