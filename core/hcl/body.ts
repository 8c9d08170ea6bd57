// The syntax-agnostic information model (HCL's hcl.Body / hcl.Expression): both the native and
// the JSON syntax produce these, so callers decode configuration the same way for .pkr.hcl and
// .pkr.json. Also the native-syntax implementation of them.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { AttributeNode, BlockNode, BodyNode, Node, Traversal } from "./ast.ts";
import { nameSuggestion, type EvalContext } from "./context.ts";
import { evaluateNode } from "./eval.ts";
import { nodeVariables } from "./variables.ts";
import type { Value } from "./value.ts";

export interface EvalResult {
  value: Value;
  diagnostics: Diagnostic[];
}

export interface Expression {
  readonly range: SourceRange;
  evaluate(ctx?: EvalContext): EvalResult;
  /** Variable references (root name + static steps) the expression makes. */
  variables(): Traversal[];
  /** The expression as a bare static reference (`a.b[0]`), if it is one. */
  asTraversal(): Traversal | undefined;
  /** The items of a tuple constructor (`[a, b]`), for static analysis like depends_on. */
  asList(): Expression[] | undefined;
  /** The object constructor items as key/value expressions (key expressions evaluate to strings). */
  asMap(): Array<{ key: Expression; value: Expression }> | undefined;
  /** A single bare identifier (`foo`), used for keyword-like arguments. */
  asKeyword(): string | undefined;
}

export interface Attribute {
  name: string;
  expr: Expression;
  range: SourceRange;
  nameRange: SourceRange;
}

export interface Block {
  type: string;
  labels: string[];
  body: Body;
  typeRange: SourceRange;
  labelRanges: SourceRange[];
  /** The block header: type through the last label (HCL's DefRange). */
  defRange: SourceRange;
}

export interface AttributeSchema {
  name: string;
  required?: boolean;
}
export interface BlockHeaderSchema {
  type: string;
  labelNames?: string[];
}
export interface BodySchema {
  attributes?: AttributeSchema[];
  blocks?: BlockHeaderSchema[];
}

export interface BodyContent {
  attributes: Record<string, Attribute>;
  blocks: Block[];
  missingItemRange: SourceRange;
}

export interface Body {
  /** Takes exactly what the schema describes; anything else is an error. */
  content(schema: BodySchema): { content: BodyContent; diagnostics: Diagnostic[] };
  /** Takes what the schema describes and returns the rest as `remain` for another decoder. */
  partialContent(schema: BodySchema): { content: BodyContent; remain: Body; diagnostics: Diagnostic[] };
  /** Every item as an attribute (blocks are an error), for free-form bodies like `locals`. */
  justAttributes(): { attributes: Record<string, Attribute>; diagnostics: Diagnostic[] };
  /** Where to point "missing required argument" errors. */
  missingItemRange(): SourceRange;
  readonly range: SourceRange;
}

/** A native-syntax expression. */
export class NativeExpression implements Expression {
  constructor(readonly node: Node) {}
  get range(): SourceRange {
    return this.node.range;
  }
  evaluate(ctx?: EvalContext): EvalResult {
    return evaluateNode(this.node, ctx);
  }
  variables(): Traversal[] {
    return nodeVariables(this.node);
  }
  asTraversal(): Traversal | undefined {
    let n = this.node;
    while (n.kind === "parens") n = n.wrapped;
    return n.kind === "scopeTraversal" ? n.traversal : undefined;
  }
  asList(): Expression[] | undefined {
    let n = this.node;
    while (n.kind === "parens") n = n.wrapped;
    return n.kind === "tuple" ? n.items.map((i) => new NativeExpression(i)) : undefined;
  }
  asMap(): Array<{ key: Expression; value: Expression }> | undefined {
    let n = this.node;
    while (n.kind === "parens") n = n.wrapped;
    return n.kind === "object" ? n.items.map((i) => ({ key: new NativeExpression(i.key), value: new NativeExpression(i.value) })) : undefined;
  }
  asKeyword(): string | undefined {
    const t = this.asTraversal();
    return t && t.steps.length === 0 ? t.root : undefined;
  }
}

function toAttribute(a: AttributeNode): Attribute {
  return { name: a.name, expr: new NativeExpression(a.expr), range: a.range, nameRange: a.nameRange };
}

function toBlock(b: BlockNode): Block {
  // HCL's DefRange: the block type through its last label (the brace is not included).
  const defEnd = b.labelRanges[b.labelRanges.length - 1] ?? b.typeRange;
  return {
    type: b.type,
    labels: b.labels,
    body: new NativeBody(b.body),
    typeRange: b.typeRange,
    labelRanges: b.labelRanges,
    defRange: { filename: b.typeRange.filename, start: b.typeRange.start, end: defEnd.end },
  };
}

/** Checks blocks' label counts against the schema (shared by both syntaxes). */
export function checkBlockLabels(
  block: Block,
  s: BlockHeaderSchema,
  openRange: SourceRange,
  diags: Diagnostic[],
): boolean {
  const names = s.labelNames ?? [];
  if (block.labels.length > names.length) {
    if (names.length === 0) {
      diags.push(errorDiag(`Extraneous label for ${block.type}`, block.labelRanges[0], `No labels are expected for ${block.type} blocks.`));
    } else {
      diags.push(
        errorDiag(
          `Extraneous label for ${block.type}`,
          block.labelRanges[names.length],
          `Only ${names.length} labels (${names.join(", ")}) are expected for ${block.type} blocks.`,
        ),
      );
    }
    return false;
  }
  if (block.labels.length < names.length) {
    diags.push(
      errorDiag(
        `Missing ${names[block.labels.length]} for ${block.type}`,
        openRange,
        `All ${block.type} blocks must have ${names.length} labels (${names.join(", ")}).`,
      ),
    );
    return false;
  }
  return true;
}

/** HCL's words for an argument a schema does not have (`hint`: " Did you mean ...?" or ""). */
export function unsupportedArgument(name: string, range: SourceRange | undefined, hint = ""): Diagnostic {
  return errorDiag("Unsupported argument", range, `An argument named ${JSON.stringify(name)} is not expected here.${hint}`);
}

/** HCL's words for a block type a schema does not have. */
export function unsupportedBlockType(type: string, range: SourceRange | undefined, hint = ""): Diagnostic {
  return errorDiag("Unsupported block type", range, `Blocks of type ${JSON.stringify(type)} are not expected here.${hint}`);
}

/** HCL's words for a required argument that is not there. */
export function missingRequiredArgument(name: string, range: SourceRange | undefined): Diagnostic {
  return errorDiag("Missing required argument", range, `The argument ${JSON.stringify(name)} is required, but no definition was found.`);
}

/** "Unsupported argument" / "Unsupported block type" errors for what a schema left over. */
export function extraneousDiagnostics(
  leftAttrs: Attribute[],
  leftBlocks: Block[],
  schema: BodySchema,
  taken: Record<string, Attribute>,
): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const a of leftAttrs) {
    const candidates = (schema.attributes ?? []).filter((s) => !(s.name in taken)).map((s) => s.name);
    let suggestion = "";
    const s = nameSuggestion(a.name, candidates);
    if (s) suggestion = ` Did you mean ${JSON.stringify(s)}?`;
    else if ((schema.blocks ?? []).some((b) => b.type === a.name)) suggestion = ` Did you mean to define a block of type ${JSON.stringify(a.name)}?`;
    diags.push(unsupportedArgument(a.name, a.nameRange, suggestion));
  }
  for (const b of leftBlocks) {
    let suggestion = "";
    const s = nameSuggestion(
      b.type,
      (schema.blocks ?? []).map((x) => x.type),
    );
    if (s) suggestion = ` Did you mean ${JSON.stringify(s)}?`;
    else if ((schema.attributes ?? []).some((x) => x.name === b.type))
      suggestion = ` Did you mean to define argument ${JSON.stringify(b.type)}? If so, use the equals sign to assign it a value.`;
    diags.push(unsupportedBlockType(b.type, b.typeRange, suggestion));
  }
  return diags;
}

/** A native-syntax body; `hiddenAttrs`/`hiddenBlocks` implement partialContent's remainder. */
export class NativeBody implements Body {
  constructor(
    readonly node: BodyNode,
    private readonly hiddenAttrs: ReadonlySet<string> = new Set(),
    private readonly hiddenBlocks: ReadonlySet<string> = new Set(),
  ) {}

  get range(): SourceRange {
    return this.node.range;
  }

  missingItemRange(): SourceRange {
    const r = this.node.range;
    return { filename: r.filename, start: r.start, end: r.start };
  }

  /** Attributes and blocks not yet taken by an earlier partialContent. */
  visibleAttributes(): AttributeNode[] {
    return this.node.attributes.filter((a) => !this.hiddenAttrs.has(a.name));
  }
  visibleBlocks(): BlockNode[] {
    return this.node.blocks.filter((b) => !this.hiddenBlocks.has(b.type));
  }

  partialContent(schema: BodySchema): { content: BodyContent; remain: NativeBody; diagnostics: Diagnostic[] } {
    const diags: Diagnostic[] = [];
    const attributes: Record<string, Attribute> = {};
    const hiddenAttrs = new Set(this.hiddenAttrs);
    const hiddenBlocks = new Set(this.hiddenBlocks);
    for (const s of schema.attributes ?? []) {
      const a = this.node.attributes.find((x) => x.name === s.name);
      if (!a || this.hiddenAttrs.has(s.name)) {
        if (s.required) {
          diags.push(
            missingRequiredArgument(s.name, this.missingItemRange()),
          );
        }
        continue;
      }
      hiddenAttrs.add(s.name);
      attributes[s.name] = toAttribute(a);
    }
    const wanted = new Map((schema.blocks ?? []).map((b) => [b.type, b]));
    for (const a of this.node.attributes) {
      if (hiddenAttrs.has(a.name)) continue;
      if (wanted.has(a.name)) {
        diags.push(unsupportedArgument(a.name, a.nameRange, ` Did you mean to define a block of type ${JSON.stringify(a.name)}?`));
      }
    }
    const blocks: Block[] = [];
    for (const b of this.node.blocks) {
      if (this.hiddenBlocks.has(b.type)) continue;
      const s = wanted.get(b.type);
      if (!s) continue;
      const blk = toBlock(b);
      if (!checkBlockLabels(blk, s, b.openBraceRange, diags)) continue;
      blocks.push(blk);
    }
    for (const s of schema.blocks ?? []) hiddenBlocks.add(s.type);
    return {
      content: { attributes, blocks, missingItemRange: this.missingItemRange() },
      remain: new NativeBody(this.node, hiddenAttrs, hiddenBlocks),
      diagnostics: diags,
    };
  }

  content(schema: BodySchema): { content: BodyContent; diagnostics: Diagnostic[] } {
    const { content, remain, diagnostics } = this.partialContent(schema);
    const extra = extraneousDiagnostics(
      remain.visibleAttributes().map(toAttribute),
      remain.visibleBlocks().map(toBlock),
      schema,
      content.attributes,
    );
    // Attributes already reported as "did you mean a block" by partialContent are not repeated.
    const reported = new Set(diagnostics.filter((d) => d.summary === "Unsupported argument").map((d) => d.range?.start.byte));
    return {
      content,
      diagnostics: [...diagnostics, ...extra.filter((d) => !(d.summary === "Unsupported argument" && reported.has(d.range?.start.byte)))],
    };
  }

  justAttributes(): { attributes: Record<string, Attribute>; diagnostics: Diagnostic[] } {
    const diags: Diagnostic[] = [];
    for (const b of this.visibleBlocks()) {
      diags.push(
        errorDiag(
          `Unexpected ${JSON.stringify(b.type)} block`,
          b.typeRange,
          "Blocks are not allowed here.",
        ),
      );
    }
    const attributes: Record<string, Attribute> = {};
    for (const a of this.visibleAttributes()) attributes[a.name] = toAttribute(a);
    return { attributes, diagnostics: diags };
  }
}

/**
 * Everything a body contains, without a schema (for bodies whose keys are free-form, e.g. a
 * component config checked later against the plugin's schema). JSON bodies cannot tell blocks
 * from attributes without a schema, so there every property is an attribute.
 */
export function bodyItems(body: Body): { attributes: Attribute[]; blocks: Block[] } {
  if (body instanceof NativeBody) {
    return {
      attributes: body.visibleAttributes().map(toAttribute),
      blocks: body.visibleBlocks().map(toBlock),
    };
  }
  const { attributes } = body.justAttributes();
  return { attributes: Object.values(attributes), blocks: [] };
}
