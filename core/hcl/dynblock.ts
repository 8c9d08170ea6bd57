// `dynamic` blocks (ext/dynblock) as a body transform: a wrapped body answers content() and
// partialContent() with each `dynamic "T" { for_each, iterator, labels, content {} }` expanded
// into ordinary T blocks. Expressions inside generated blocks see the iterator variable.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import { errorDiag } from "../errors/diagnostic.ts";
import type { Traversal } from "./ast.ts";
import {
  bodyItems,
  checkBlockLabels,
  extraneousDiagnostics,
  type Attribute,
  type Block,
  type Body,
  type BodyContent,
  type BodySchema,
  type EvalResult,
  type Expression,
} from "./body.ts";
import type { EvalContext } from "./context.ts";
import { typeString } from "./types.ts";
import { V, type Value } from "./value.ts";

/** Wraps a body so that dynamic blocks are expanded, evaluating for_each/labels with `ctx`. */
export function expandDynamicBlocks(body: Body, ctx: EvalContext): Body {
  return new DynBody(body, ctx, {});
}

class IterExpression implements Expression {
  constructor(
    private readonly inner: Expression,
    private readonly vars: Record<string, Value>,
  ) {}
  get range(): SourceRange {
    return this.inner.range;
  }
  evaluate(ctx?: EvalContext): EvalResult {
    if (!ctx) return this.inner.evaluate(ctx);
    return this.inner.evaluate(ctx.child(this.vars));
  }
  variables(): Traversal[] {
    return this.inner.variables().filter((t) => !(t.root in this.vars));
  }
  asTraversal(): Traversal | undefined {
    return this.inner.asTraversal();
  }
  asList(): Expression[] | undefined {
    return this.inner.asList()?.map((e) => new IterExpression(e, this.vars));
  }
  asMap(): Array<{ key: Expression; value: Expression }> | undefined {
    return this.inner.asMap()?.map((i) => ({ key: new IterExpression(i.key, this.vars), value: new IterExpression(i.value, this.vars) }));
  }
  asKeyword(): string | undefined {
    return this.inner.asKeyword();
  }
}

class DynBody implements Body {
  constructor(
    private readonly inner: Body,
    private readonly ctx: EvalContext,
    private readonly vars: Record<string, Value>,
  ) {}

  get range(): SourceRange {
    return this.inner.range;
  }
  missingItemRange(): SourceRange {
    return this.inner.missingItemRange();
  }

  private wrapAttr(a: Attribute): Attribute {
    return Object.keys(this.vars).length ? { ...a, expr: new IterExpression(a.expr, this.vars) } : a;
  }

  private withDynamic(schema: BodySchema): BodySchema {
    return { attributes: schema.attributes, blocks: [...(schema.blocks ?? []), { type: "dynamic", labelNames: ["type"] }] };
  }

  private expandContent(content: BodyContent, schema: BodySchema, diags: Diagnostic[], strict: boolean): BodyContent {
    const attributes: Record<string, Attribute> = {};
    for (const [k, a] of Object.entries(content.attributes)) attributes[k] = this.wrapAttr(a);
    const blocks: Block[] = [];
    for (const b of content.blocks) {
      if (b.type !== "dynamic") {
        blocks.push({ ...b, body: new DynBody(b.body, this.ctx, this.vars) });
        continue;
      }
      const target = b.labels[0]!;
      const s = (schema.blocks ?? []).find((x) => x.type === target);
      if (!s) {
        if (strict) {
          diags.push(errorDiag("Unsupported block type", b.labelRanges[0], `Blocks of type ${JSON.stringify(target)} are not expected here.`));
        }
        continue;
      }
      for (const gen of this.expand(b, diags, (s.labelNames ?? []).length)) {
        if (checkBlockLabels(gen, s, gen.defRange, diags)) blocks.push(gen);
      }
    }
    return { attributes, blocks, missingItemRange: content.missingItemRange };
  }

  private expand(dyn: Block, diags: Diagnostic[], labelCount: number): Block[] {
    const target = dyn.labels[0]!;
    const { content, diagnostics } = dyn.body.content({
      attributes: [{ name: "for_each", required: true }, { name: "iterator" }, { name: "labels" }],
      blocks: [{ type: "content" }],
    });
    diags.push(...diagnostics);
    const forEach = content.attributes.for_each;
    if (!forEach) return [];
    const contentBlocks = content.blocks.filter((b) => b.type === "content");
    if (contentBlocks.length === 0) {
      diags.push(errorDiag("Missing content block", dyn.defRange, 'A dynamic block must have a nested block of type "content" to describe the body of each generated block.'));
      return [];
    }
    if (contentBlocks.length > 1) {
      diags.push(errorDiag("Extraneous content block", contentBlocks[1]!.defRange, 'Only one nested content block is allowed for each dynamic block.'));
      return [];
    }
    let iterName = target;
    if (content.attributes.iterator) {
      const kw = content.attributes.iterator.expr.asKeyword();
      if (!kw) {
        diags.push(errorDiag("Invalid dynamic iterator name", content.attributes.iterator.expr.range, "Dynamic iterator must be a single variable name."));
        return [];
      }
      iterName = kw;
    }
    const scope = this.ctx.child(this.vars);
    const fe = forEach.expr.evaluate(scope);
    diags.push(...fe.diagnostics);
    if (fe.diagnostics.some((d) => d.severity === "error")) return [];
    const coll = fe.value;
    if (coll.isNull) {
      diags.push(errorDiag("Invalid dynamic for_each value", forEach.expr.range, "Cannot use a null value in for_each."));
      return [];
    }
    const k = coll.type.kind;
    let items: Array<[Value, Value]>;
    // An unknown collection (validate time) yields one block whose iterator is unknown, as dynblock does.
    if (!coll.isKnown) items = [[V.unknown(), V.unknown()]];
    else if (k === "list" || k === "tuple") items = coll.elems.map((e, i) => [V.number(i), e]);
    else if (k === "set") items = coll.elems.map((e) => [e, e]);
    else if (k === "map" || k === "object") items = [...coll.attrs].map(([key, e]) => [V.string(key), e]);
    else {
      diags.push(errorDiag("Invalid dynamic for_each value", forEach.expr.range, `Cannot use a ${typeString(coll.type)} value in for_each. An iterable collection is required.`));
      return [];
    }
    const out: Block[] = [];
    const body = contentBlocks[0]!.body;
    for (const [key, value] of items) {
      const vars = { ...this.vars, [iterName]: V.object({ key, value }) };
      let labels: string[] = [];
      if (content.attributes.labels) {
        const lv = content.attributes.labels.expr.evaluate(this.ctx.child(vars));
        diags.push(...lv.diagnostics);
        const lk = lv.value.type.kind;
        if (!lv.value.isKnown) {
          // Labels not known yet: placeholders keep the block usable for validation.
          labels = Array.from({ length: labelCount }, () => "");
        } else if (lv.value.isNull || (lk !== "list" && lk !== "tuple")) {
          diags.push(errorDiag("Invalid dynamic block labels", content.attributes.labels.expr.range, "The labels argument must be a list of strings."));
          continue;
        } else {
          labels = lv.value.elems.map((e) => (e.isKnown && !e.isNull ? (e.type.kind === "string" ? e.str : String(e.raw)) : ""));
        }
      }
      out.push({
        type: target,
        labels,
        labelRanges: labels.map(() => content.attributes.labels!.expr.range),
        typeRange: dyn.labelRanges[0] ?? dyn.typeRange,
        defRange: dyn.defRange,
        body: new DynBody(body, this.ctx, vars),
      });
    }
    return out;
  }

  partialContent(schema: BodySchema): { content: BodyContent; remain: Body; diagnostics: Diagnostic[] } {
    const r = this.inner.partialContent(this.withDynamic(schema));
    const diags = [...r.diagnostics];
    const content = this.expandContent(r.content, schema, diags, false);
    return { content, remain: new DynBody(r.remain, this.ctx, this.vars), diagnostics: diags };
  }

  content(schema: BodySchema): { content: BodyContent; diagnostics: Diagnostic[] } {
    const r = this.inner.partialContent(this.withDynamic(schema));
    const diags = [...r.diagnostics];
    const content = this.expandContent(r.content, schema, diags, true);
    // Whatever the schema did not take is an error, as in content().
    const left = r.remain.justAttributes();
    diags.push(...extraneousDiagnostics(Object.values(left.attributes), [], schema, content.attributes));
    // Blocks left over are reported by justAttributes as "Unexpected block"; map them to HCL's summary.
    for (const d of left.diagnostics) {
      const m = /^Unexpected "(.*)" block$/.exec(d.summary);
      if (m) diags.push(errorDiag("Unsupported block type", d.range, `Blocks of type ${JSON.stringify(m[1])} are not expected here.`));
    }
    // partialContent may already have reported an argument named like a block type.
    const seen = new Set<string>();
    const unique = diags.filter((d) => {
      const k = `${d.summary}@${d.range?.filename}:${d.range?.start.byte}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    return { content, diagnostics: unique };
  }

  justAttributes(): { attributes: Record<string, Attribute>; diagnostics: Diagnostic[] } {
    const r = this.inner.justAttributes();
    const attributes: Record<string, Attribute> = {};
    for (const [k, a] of Object.entries(r.attributes)) attributes[k] = this.wrapAttr(a);
    return { attributes, diagnostics: r.diagnostics };
  }
}

/**
 * Variables that `for_each` and `labels` of dynamic blocks (at any depth) refer to, so a caller
 * can build the context for expandDynamicBlocks (like dynblock.WalkForEachVariables). Native
 * syntax only: without a schema, JSON bodies cannot tell blocks from attributes.
 */
export function dynamicBlockVariables(body: Body): Traversal[] {
  const out: Traversal[] = [];
  const visit = (b: Body, depth: number) => {
    if (depth > 64) return;
    for (const blk of bodyItems(b).blocks) {
      if (blk.type === "dynamic") {
        const { attributes, blocks } = bodyItems(blk.body);
        const iter = attributes.find((a) => a.name === "iterator")?.expr.asKeyword() ?? blk.labels[0];
        for (const a of attributes) if (a.name === "for_each" || a.name === "labels") out.push(...a.expr.variables().filter((t) => a.name === "for_each" || t.root !== iter));
        for (const c of blocks) if (c.type === "content") visit(c.body, depth + 1);
      } else visit(blk.body, depth + 1);
    }
  };
  visit(body, 0);
  return out;
}
