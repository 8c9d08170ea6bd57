// Static analysis of native-syntax expressions (HCL's variables.go): the traversals an expression
// refers to, so that callers can evaluate what it needs first (locals, dynamic for_each). Names bound
// by `for` expressions and template `for` directives are the expression's own and are left out.
import type { Node, Traversal } from "./ast.ts";

/** Static references in an expression (variables()), excluding names bound by for-expressions. */
export function nodeVariables(n: Node, out: Traversal[] = [], locals: Set<string> = new Set()): Traversal[] {
  const walk = (c: Node | undefined, l = locals) => {
    if (c) nodeVariables(c, out, l);
  };
  switch (n.kind) {
    case "scopeTraversal":
      if (!locals.has(n.traversal.root)) out.push(n.traversal);
      break;
    case "relativeTraversal":
      walk(n.source);
      break;
    case "index":
      walk(n.collection);
      walk(n.key);
      break;
    case "splat":
      walk(n.source);
      walk(n.each);
      break;
    case "call":
      n.args.forEach((a) => walk(a));
      break;
    case "conditional":
      walk(n.cond);
      walk(n.trueExpr);
      walk(n.falseExpr);
      break;
    case "binary":
      walk(n.lhs);
      walk(n.rhs);
      break;
    case "unary":
      walk(n.operand);
      break;
    case "tuple":
      n.items.forEach((i) => walk(i));
      break;
    case "object":
      for (const i of n.items) {
        walk(i.key);
        walk(i.value);
      }
      break;
    case "objectKey":
      if (!(n.wrapped.kind === "scopeTraversal" && n.wrapped.traversal.steps.length === 0 && !n.forceNonLiteral)) walk(n.wrapped);
      break;
    case "for": {
      walk(n.collection);
      const inner = new Set(locals);
      inner.add(n.valVar);
      if (n.keyVar) inner.add(n.keyVar);
      walk(n.keyExpr, inner);
      walk(n.valExpr, inner);
      walk(n.condExpr, inner);
      break;
    }
    case "parens":
    case "templateWrap":
      walk(n.wrapped);
      break;
    case "template":
      n.parts.forEach((p) => walk(p));
      break;
    case "templateIf":
      walk(n.cond);
      walk(n.trueT);
      walk(n.falseT);
      break;
    case "templateFor": {
      walk(n.collection);
      const inner = new Set(locals);
      inner.add(n.valVar);
      if (n.keyVar) inner.add(n.keyVar);
      walk(n.body, inner);
      break;
    }
    default:
      break;
  }
  return out;
}
