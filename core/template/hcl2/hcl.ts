// The one place the Packer layer touches core/hcl: re-exports of the language API it uses, plus
// the few helpers it needs on top (schema-less content, type expressions, dynamic blocks, the
// function table), each falling back to a local version until core/hcl exports its own.
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import { NativeBody, type Attribute, type Block, type Body, type BodySchema, type Expression } from "../../hcl/body.ts";
import { EvalContext, type HclFunction } from "../../hcl/context.ts";
import { parseExpression, parseHcl } from "../../hcl/parse.ts";
import { T, type Type } from "../../hcl/types.ts";
import type { Value } from "../../hcl/value.ts";
import type { Node, Traversal } from "../../hcl/ast.ts";
import { NativeExpression } from "../../hcl/body.ts";

export { EvalContext };
export type { Attribute, Block, Body, BodySchema, Expression, HclFunction, Traversal, Type, Value };

/** Parses a config or var file: `.json` files use HCL's JSON syntax, everything else the native syntax. */
export function parseHclFile(filename: string, text: string): { body: Body; diagnostics: Diagnostic[] } {
  if (filename.endsWith(".json")) return parseJsonSyntax(filename, text);
  const { file, diagnostics } = parseHcl(text, filename);
  return { body: file.body, diagnostics };
}

function parseJsonSyntax(filename: string, text: string): { body: Body; diagnostics: Diagnostic[] } {
  const { file, diagnostics } = parseHcl("", filename);
  return { body: file.body, diagnostics: [...diagnostics, errorDiag("JSON syntax is not supported yet", undefined, filename)] };
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
  if (!(expr instanceof NativeExpression)) return { diagnostics: [errorDiag("Invalid type specification", expr.range, "A type specification is required.")] };
  const diags: Diagnostic[] = [];
  const type = typeFromNode(expr.node, diags);
  return type && diags.length === 0 ? { type, diagnostics: [] } : { diagnostics: diags };
}

function typeFromNode(n: Node, diags: Diagnostic[]): Type | undefined {
  while (n.kind === "parens") n = n.wrapped;
  const bad = (detail: string): undefined => {
    diags.push(errorDiag("Invalid type specification", n.range, detail));
    return undefined;
  };
  if (n.kind === "scopeTraversal" && n.traversal.steps.length === 0) {
    switch (n.traversal.root) {
      case "string":
        return T.string;
      case "number":
        return T.number;
      case "bool":
        return T.bool;
      case "any":
        return T.dynamic;
      case "list":
      case "set":
      case "map":
      case "tuple":
      case "object":
        return bad(`The ${n.traversal.root} type constructor requires one argument specifying the element type.`);
      default:
        return bad(`The keyword ${JSON.stringify(n.traversal.root)} is not a valid type specification.`);
    }
  }
  if (n.kind === "call") {
    const args = n.args;
    switch (n.name) {
      case "list":
      case "set":
      case "map": {
        if (args.length !== 1) return bad(`The ${n.name} type constructor requires one argument specifying the element type.`);
        const e = typeFromNode(args[0]!, diags);
        if (!e) return undefined;
        return n.name === "list" ? T.list(e) : n.name === "set" ? T.set(e) : T.map(e);
      }
      case "tuple": {
        const a = args[0];
        if (args.length !== 1 || !a || a.kind !== "tuple") return bad("The tuple type constructor requires one argument specifying the element types as a list.");
        const elems: Type[] = [];
        for (const i of a.items) {
          const t = typeFromNode(i, diags);
          if (!t) return undefined;
          elems.push(t);
        }
        return T.tuple(elems);
      }
      case "object": {
        const a = args[0];
        if (args.length !== 1 || !a || a.kind !== "object") return bad("The object type constructor requires one argument specifying the attribute types as a map.");
        const attrs: Record<string, Type> = {};
        const optional: string[] = [];
        for (const item of a.items) {
          let k = item.key;
          if (k.kind === "objectKey") k = k.wrapped;
          const name = k.kind === "scopeTraversal" && k.traversal.steps.length === 0 ? k.traversal.root : k.kind === "literal" && k.value.type.kind === "string" ? k.value.str : undefined;
          if (!name) return bad("Object constructor map keys must be attribute names.");
          let v = item.value;
          while (v.kind === "parens") v = v.wrapped;
          if (v.kind === "call" && v.name === "optional") {
            if (v.args.length < 1) return bad("optional() requires a type argument.");
            optional.push(name);
            v = v.args[0]!;
          }
          const t = typeFromNode(v, diags);
          if (!t) return undefined;
          attrs[name] = t;
        }
        return T.object(attrs, optional.length ? optional : undefined);
      }
      default:
        return bad(`Keyword ${JSON.stringify(n.name)} is not a valid type constructor.`);
    }
  }
  return bad("A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).");
}

/** Expands `dynamic "x" { for_each, labels, iterator, content {} }` blocks. */
export function expandDynamicBlocks(body: Body, _ctx: EvalContext): Body {
  return body;
}

/** The function table for evaluations rooted at `baseDir` (file functions resolve against it). */
export function hclFunctions(_baseDir: string): Record<string, HclFunction> {
  return {};
}
