// The native-syntax syntax tree. Every node carries its source range; expressions are evaluated
// by eval.ts. The body/attribute/block structure is wrapped by body.ts into the syntax-agnostic
// Body API shared with the JSON syntax.
import type { SourceRange } from "../errors/diagnostic.ts";
import type { Value } from "./value.ts";

/** One step after the root of a traversal: `.name` or `[literal]`. */
export type TraverseStep =
  | { kind: "attr"; name: string; range: SourceRange }
  | { kind: "index"; key: Value; range: SourceRange };

/** A static reference like `var.foo[0].bar`: a root variable name followed by literal steps. */
export interface Traversal {
  root: string;
  rootRange: SourceRange;
  steps: TraverseStep[];
  range: SourceRange;
}

export type BinaryOp = "||" | "&&" | "==" | "!=" | "<" | ">" | "<=" | ">=" | "+" | "-" | "*" | "/" | "%";

export type Node =
  | { kind: "literal"; value: Value; range: SourceRange }
  | { kind: "scopeTraversal"; traversal: Traversal; range: SourceRange }
  | { kind: "relativeTraversal"; source: Node; steps: TraverseStep[]; range: SourceRange }
  | { kind: "index"; collection: Node; key: Node; range: SourceRange; bracketRange: SourceRange }
  | { kind: "splat"; source: Node; each: Node; item: AnonSymbol; range: SourceRange; markerRange: SourceRange }
  | AnonSymbol
  | {
      kind: "call";
      name: string;
      nameRange: SourceRange;
      args: Node[];
      expandFinal: boolean;
      range: SourceRange;
      openParenRange: SourceRange;
      closeParenRange: SourceRange;
    }
  | { kind: "conditional"; cond: Node; trueExpr: Node; falseExpr: Node; range: SourceRange }
  | { kind: "binary"; op: BinaryOp; lhs: Node; rhs: Node; range: SourceRange; opRange: SourceRange }
  | { kind: "unary"; op: "!" | "-"; operand: Node; range: SourceRange; opRange: SourceRange }
  | { kind: "tuple"; items: Node[]; range: SourceRange; openRange: SourceRange }
  | { kind: "object"; items: ObjectItem[]; range: SourceRange; openRange: SourceRange }
  | { kind: "objectKey"; wrapped: Node; forceNonLiteral: boolean; range: SourceRange }
  | {
      kind: "for";
      keyVar?: string;
      valVar: string;
      collection: Node;
      keyExpr?: Node;
      valExpr: Node;
      condExpr?: Node;
      group: boolean;
      range: SourceRange;
      openRange: SourceRange;
      closeRange: SourceRange;
    }
  | { kind: "parens"; wrapped: Node; range: SourceRange }
  | { kind: "template"; parts: Node[]; range: SourceRange; heredoc: boolean }
  | { kind: "templateWrap"; wrapped: Node; range: SourceRange }
  | { kind: "templateIf"; cond: Node; trueT: Node; falseT?: Node; range: SourceRange }
  | {
      kind: "templateFor";
      keyVar?: string;
      valVar: string;
      collection: Node;
      body: Node;
      range: SourceRange;
    };

/** Placeholder for "the current element" inside a splat's `each` expression. */
export interface AnonSymbol {
  kind: "anon";
  range: SourceRange;
  id: number;
}

export interface ObjectItem {
  key: Node;
  value: Node;
}

export interface AttributeNode {
  kind: "attribute";
  name: string;
  expr: Node;
  range: SourceRange;
  nameRange: SourceRange;
  equalsRange: SourceRange;
}

export interface BlockNode {
  kind: "block";
  type: string;
  labels: string[];
  body: BodyNode;
  typeRange: SourceRange;
  labelRanges: SourceRange[];
  openBraceRange: SourceRange;
  closeBraceRange: SourceRange;
}

export interface BodyNode {
  attributes: AttributeNode[];
  blocks: BlockNode[];
  range: SourceRange;
  endRange: SourceRange;
}

/** `var.list[0].name` / `local.m["k"]`: a traversal as it would be written. */
export function traversalString(t: Traversal): string {
  let s = t.root;
  for (const step of t.steps) {
    if (step.kind === "attr") s += "." + step.name;
    else if (step.key.type.kind === "string" && step.key.isKnown && !step.key.isNull) s += `[${JSON.stringify(step.key.str)}]`;
    else if (step.key.type.kind === "number" && step.key.isKnown && !step.key.isNull) s += `[${step.key.num.toString()}]`;
    else s += "[?]";
  }
  return s;
}
