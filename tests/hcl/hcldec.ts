// Reads hcldec spec files (cmd/hcldec/spec-format.md) into decoder Specs, with imgb's own parser.
import type { Block } from "../../core/hcl/body.ts";
import { EvalContext } from "../../core/hcl/context.ts";
import type { Spec } from "../../core/hcl/decoder.ts";
import { parseHcl } from "../../core/hcl/parse.ts";
import { parseTypeExpr } from "../../core/hcl/typeexpr.ts";
import { T } from "../../core/hcl/types.ts";
import { V, type Value } from "../../core/hcl/value.ts";

const SPEC_TYPES = ["object", "array", "attr", "block", "block_list", "block_set", "block_map", "literal", "default", "block_attrs"];

export interface SpecFile {
  spec: Spec;
  variables: Record<string, Value>;
}

function fail(msg: string): never {
  throw new Error(`hcldec spec: ${msg}`);
}

export function readSpecFile(src: string, filename: string): SpecFile {
  const { file, diagnostics } = parseHcl(src, filename);
  if (diagnostics.length) fail(diagnostics.map((d) => d.summary).join("; "));
  const { content } = file.body.content({
    blocks: [{ type: "variables" }, ...SPEC_TYPES.map((type) => ({ type }))],
  });
  const variables: Record<string, Value> = {};
  let spec: Spec | undefined;
  for (const b of content.blocks) {
    if (b.type === "variables") {
      const { attributes } = b.body.justAttributes();
      for (const [k, a] of Object.entries(attributes)) variables[k] = a.expr.evaluate().value;
      continue;
    }
    if (spec) fail("more than one root spec");
    spec = specFromBlock(b, undefined);
  }
  return { spec: spec ?? fail("no spec"), variables };
}

function specFromBlock(b: Block, defaultName: string | undefined): Spec {
  const name = b.labels[0] ?? defaultName;
  const nestedSchema = { blocks: SPEC_TYPES.map((type) => ({ type, labelNames: [] as string[] })) };
  const withLabel = { blocks: SPEC_TYPES.map((type) => ({ type, labelNames: ["name"] })) };
  const str = (v: Value | undefined): string | undefined => (v && !v.isNull ? v.str : undefined);
  switch (b.type) {
    case "object": {
      const { content, diagnostics } = b.body.content(withLabel);
      if (diagnostics.length) fail(diagnostics.map((d) => d.summary).join("; "));
      const attrs: Record<string, Spec> = {};
      for (const c of content.blocks) attrs[c.labels[0]!] = specFromBlock(c, c.labels[0]);
      return { kind: "object", attrs };
    }
    case "array": {
      const { content } = b.body.content(nestedSchema);
      return { kind: "array", items: content.blocks.map((c) => specFromBlock(c, undefined)) };
    }
    case "attr": {
      const { content, diagnostics } = b.body.content({ attributes: [{ name: "name" }, { name: "type" }, { name: "required" }] });
      if (diagnostics.length) fail(diagnostics.map((d) => d.summary).join("; "));
      const n = str(content.attributes.name?.expr.evaluate().value) ?? name ?? fail("attr without name");
      const type = content.attributes.type ? parseTypeExpr(content.attributes.type.expr).type : T.dynamic;
      const required = content.attributes.required?.expr.evaluate().value.bool ?? false;
      return { kind: "attr", name: n, type, required };
    }
    case "literal": {
      const { content } = b.body.content({ attributes: [{ name: "value", required: true }] });
      return { kind: "literal", value: content.attributes.value!.expr.evaluate(new EvalContext()).value };
    }
    case "block":
    case "block_list":
    case "block_set":
    case "block_map": {
      const { content, diagnostics } = b.body.content({
        attributes: [{ name: "block_type" }, { name: "required" }, { name: "labels" }, { name: "min_items" }, { name: "max_items" }],
        blocks: nestedSchema.blocks,
      });
      if (diagnostics.length) fail(diagnostics.map((d) => d.summary).join("; "));
      const type = str(content.attributes.block_type?.expr.evaluate().value) ?? name ?? fail("block without block_type");
      const nestedBlock = content.blocks[0];
      const nested: Spec = nestedBlock ? specFromBlock(nestedBlock, undefined) : { kind: "literal", value: V.null() };
      if (b.type === "block") {
        return { kind: "block", type, nested, required: content.attributes.required?.expr.evaluate().value.bool ?? false };
      }
      if (b.type === "block_map") {
        const labels = content.attributes.labels?.expr.evaluate().value.elems.map((e) => e.str) ?? [];
        return { kind: "block_map", type, labels, nested };
      }
      const num = (k: string) => content.attributes[k]?.expr.evaluate().value.num.toNumber();
      return { kind: b.type, type, nested, minItems: num("min_items"), maxItems: num("max_items") };
    }
    default:
      return fail(`unsupported spec type ${b.type}`);
  }
}
