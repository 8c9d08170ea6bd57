// Type expressions (ext/typeexpr): `string`, `list(string)`, `map(any)`, `object({a=string})`,
// `tuple([string, number])`, `set(...)`, `optional(T[, default])` inside object types.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { Node } from "./ast.ts";
import { NativeExpression, type Expression } from "./body.ts";
import { evaluateNode } from "./eval.ts";
import { parseExpressionNode } from "./parser.ts";
import { T, type Type } from "./types.ts";
import type { Value } from "./value.ts";

/** An expression whose syntax can be re-read as native syntax (JSON expressions implement this). */
export interface HasNativeNode {
  nativeNode(): Node | undefined;
}

function nodeOf(expr: Expression): Node | undefined {
  if (expr instanceof NativeExpression) return expr.node;
  const n = (expr as Partial<HasNativeNode>).nativeNode;
  return typeof n === "function" ? n.call(expr) : undefined;
}

/** Parses a type constraint; `any` is allowed (T.dynamic). */
export function parseTypeExpr(expr: Expression): { type: Type; diagnostics: Diagnostic[] } {
  const node = nodeOf(expr);
  const diags: Diagnostic[] = [];
  if (!node) {
    diags.push(errorDiag("Invalid type specification", expr.range, "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string)."));
    return { type: T.dynamic, diagnostics: diags };
  }
  const type = typeFromNode(node, diags, false);
  return { type, diagnostics: diags };
}

const KEYWORD_DETAIL =
  "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).";

function unwrap(n: Node): Node {
  while (n.kind === "parens") n = n.wrapped;
  return n;
}

function keyword(n: Node): string | undefined {
  n = unwrap(n);
  return n.kind === "scopeTraversal" && n.traversal.steps.length === 0 ? n.traversal.root : undefined;
}

function typeFromNode(raw: Node, diags: Diagnostic[], inObject: boolean): Type {
  const n = unwrap(raw);
  const kw = keyword(n);
  if (kw !== undefined) {
    switch (kw) {
      case "bool":
        return T.bool;
      case "string":
        return T.string;
      case "number":
        return T.number;
      case "any":
        return T.dynamic;
      case "list":
      case "map":
      case "set":
        // Bare collection keywords are legacy shorthand for list(any) etc. in type constraints.
        return { kind: kw, elem: T.dynamic };
      case "object":
        diags.push(errorDiag("Missing type specification", n.range, "The object type constructor requires one argument specifying the attribute types as a map."));
        return T.dynamic;
      case "tuple":
        diags.push(errorDiag("Missing type specification", n.range, "The tuple type constructor requires one argument specifying the element types as a list."));
        return T.dynamic;
      default:
        diags.push(errorDiag("Invalid type specification", n.range, `The keyword ${JSON.stringify(kw)} is not a valid type specification.`));
        return T.dynamic;
    }
  }
  if (n.kind !== "call") {
    diags.push(errorDiag("Invalid type specification", n.range, KEYWORD_DETAIL));
    return T.dynamic;
  }
  const argc = n.args.length;
  const one = (what: string): Node | undefined => {
    if (argc !== 1) {
      diags.push(errorDiag("Incorrect type specification", n.range, `The ${n.name} type constructor requires one argument specifying ${what}.`));
      return undefined;
    }
    return n.args[0]!;
  };
  switch (n.name) {
    case "bool":
    case "string":
    case "number":
    case "any":
      diags.push(errorDiag("Invalid type specification", n.range, `Primitive type keyword ${JSON.stringify(n.name)} does not expect arguments.`));
      return T.dynamic;
    case "list":
    case "set":
    case "map": {
      const a = one("the element type");
      if (!a) return T.dynamic;
      const e = typeFromNode(a, diags, false);
      return { kind: n.name, elem: e };
    }
    case "tuple": {
      const a = one("the element types as a list");
      if (!a) return T.dynamic;
      const u = unwrap(a);
      if (u.kind !== "tuple") {
        diags.push(errorDiag("Unsuitable value type", a.range, "Tuple type constructor requires a list of element types."));
        return T.dynamic;
      }
      return T.tuple(u.items.map((i) => typeFromNode(i, diags, false)));
    }
    case "object": {
      const a = one("the attribute types as a map");
      if (!a) return T.dynamic;
      const u = unwrap(a);
      if (u.kind !== "object") {
        diags.push(errorDiag("Unsuitable value type", a.range, "Object type constructor requires a map whose keys are attribute names and whose values are the corresponding attribute types."));
        return T.dynamic;
      }
      const attrs: Record<string, Type> = {};
      const optional = new Set<string>();
      const defaults: Record<string, unknown> = {};
      for (const item of u.items) {
        const k = unwrap(item.key.kind === "objectKey" ? item.key.wrapped : item.key);
        let name = keyword(k);
        if (name === undefined) {
          const r = evaluateNode(k, undefined);
          // `true`, `false` and `null` parse as literals but are plain attribute names here.
          if (k.kind === "literal" && r.value.isNull) name = "null";
          else if (r.diagnostics.length === 0 && r.value.isKnown && !r.value.isNull && (r.value.type.kind === "string" || r.value.type.kind === "bool"))
            name = String(r.value.raw);
        }
        if (name === undefined) {
          diags.push(errorDiag("Invalid type specification", item.key.range, "Object constructor map keys must be attribute names."));
          continue;
        }
        const v = unwrap(item.value);
        if (v.kind === "call" && v.name === "optional") {
          if (v.args.length < 1 || v.args.length > 2) {
            diags.push(errorDiag("Incorrect type specification", v.range, "The optional modifier requires the attribute type and, optionally, a default value."));
            continue;
          }
          const t = typeFromNode(v.args[0]!, diags, true);
          attrs[name] = t;
          optional.add(name);
          if (v.args.length === 2) {
            const r = evaluateNode(v.args[1]!, undefined);
            diags.push(...r.diagnostics);
            defaults[name] = r.value as Value;
          }
          continue;
        }
        attrs[name] = typeFromNode(item.value, diags, true);
      }
      const t: Type = optional.size
        ? { kind: "object", attrs, optional, ...(Object.keys(defaults).length ? { defaults } : {}) }
        : T.object(attrs);
      return t;
    }
    case "optional":
      if (!inObject) {
        diags.push(errorDiag("Invalid type specification", n.range, "Keyword \"optional\" is valid only as a modifier for object type attributes."));
      }
      return n.args[0] ? typeFromNode(n.args[0], diags, inObject) : T.dynamic;
    default:
      diags.push(errorDiag("Invalid type specification", n.nameRange, `Keyword ${JSON.stringify(n.name)} is not a valid type constructor.`));
      return T.dynamic;
  }
}

export function typeExprRange(expr: Expression): SourceRange {
  return expr.range;
}

/** Parses a type written as text, e.g. a plugin schema's "list(map(string))". */
export function parseTypeString(text: string): { type: Type; diagnostics: Diagnostic[] } {
  const { node, diagnostics } = parseExpressionNode(text, "<type>");
  if (diagnostics.length) return { type: T.dynamic, diagnostics };
  const diags: Diagnostic[] = [];
  const type = typeFromNode(node, diags, false);
  return { type, diagnostics: diags };
}
