// The one place the Packer layer touches core/hcl: re-exports of the language API it uses, plus
// the few helpers it needs on top (schema-less content, type expressions, dynamic blocks, the
// function table), each falling back to a local version until core/hcl exports its own.
import type { Diagnostic } from "../../errors/diagnostic.ts";
import {
  EvalContext,
  NativeBody,
  NativeExpression,
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
  envFunction,
  standardFunctions,
  expandDynamicBlocks as expandDynamic,
  checkAndFormat,
} from "../../hcl/index.ts";

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

/** Expanded bodies remember the body they wrap, whose shape tells what to ask them for. */
const expandedFrom = new WeakMap<Body, Body>();

/** Attributes and blocks as written (dynamic blocks expanded), for bodies decoded without a schema. */
export function rawContent(body: Body): { attributes: Attribute[]; blocks: Block[] } {
  if (body instanceof NativeBody) {
    return {
      attributes: body.visibleAttributes().map((a) => ({ name: a.name, expr: new NativeExpression(a.expr), range: a.range, nameRange: a.nameRange })),
      blocks: body.visibleBlocks().map((b) => ({
        type: b.type,
        labels: b.labels,
        body: new NativeBody(b.body),
        typeRange: b.typeRange,
        labelRanges: b.labelRanges,
        defRange: { filename: b.typeRange.filename, start: b.typeRange.start, end: b.openBraceRange.end },
      })),
    };
  }
  const shape = expandedFrom.get(body);
  if (shape instanceof NativeBody) {
    const blockTypes = new Map<string, number>();
    for (const b of shape.visibleBlocks()) {
      if (b.type === "dynamic") blockTypes.set(b.labels[0] ?? "", blockTypes.get(b.labels[0] ?? "") ?? 0);
      else blockTypes.set(b.type, b.labels.length);
    }
    const { content } = body.partialContent({
      attributes: shape.visibleAttributes().map((a) => ({ name: a.name })),
      blocks: [...blockTypes].map(([type, n]) => ({ type, labelNames: Array.from({ length: n }, (_, i) => `label${i}`) })),
    });
    return { attributes: Object.values(content.attributes), blocks: content.blocks };
  }
  return { attributes: Object.values(body.justAttributes().attributes), blocks: [] };
}

/** Reads a type constraint expression (`string`, `list(map(string))`, `object({a=number})`). */
export function typeFromExpr(expr: Expression): { type?: Type; diagnostics: Diagnostic[] } {
  const r = parseTypeExpr(expr);
  return r.diagnostics.some((d) => d.severity === "error") ? { diagnostics: r.diagnostics } : { type: r.type, diagnostics: r.diagnostics };
}

/** Expands `dynamic "x" { for_each, labels, iterator, content {} }` blocks (for_each evaluated in `ctx`). */
export function expandDynamicBlocks(body: Body, ctx: EvalContext): Body {
  const expanded = expandDynamic(body, ctx);
  expandedFrom.set(expanded, body);
  return expanded;
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
  return checkAndFormat(src, filename);
}
