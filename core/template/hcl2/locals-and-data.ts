// Locals (`locals {}` and `local "x" {}`) and data sources (`data "TYPE" "NAME" {}`) may refer to
// each other in any order and across files, so they are evaluated in dependency order; a cycle is an
// error naming the cycle. The `null` and `host-info` data sources are built in; other types come
// from the caller, or from `external` (Packer plugins): decoded with the schema it gives, then run.
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { toJsonLoose, V, fromJson, type Value } from "../../hcl/value.ts";
import type { JsonObject } from "../../values/json.ts";
import type { ConfigSchema } from "../../config/schema.ts";
import { decodeLayers, type DecodeOptions } from "./decode.ts";
import { HOST_INFO_DATA_SOURCE } from "./host-info.ts";
import { rawContent, type Attribute, type Block, type Body, type EvalContext, type Expression, type Traversal } from "./hcl.ts";

/** A data source implementation: its config in, its output attributes out. */
export interface DataSourceImpl {
  /** The accepted arguments (others are errors); undefined = not checked here. */
  schema?: DecodeOptions["schema"];
  execute(config: JsonObject): JsonObject;
}

/** A data source served from outside the template engine, started for one block. */
export interface ExternalDataSource {
  /** The block is decoded with it: unknown keys and wrong types are reported where they are. */
  schema: ConfigSchema;
  /** The block's value; throws with a message that names what failed. Ends the data source. */
  run(config: JsonObject): Promise<Value>;
  /** Ends the data source when run is not called. */
  close(): Promise<void>;
}

/** Starts the external data source serving a type, or resolves undefined when none does. */
export type ExternalDataSources = (type: string) => Promise<ExternalDataSource | undefined>;

export const BUILTIN_DATA_SOURCES: Record<string, DataSourceImpl> = {
  null: {
    execute(config) {
      return { output: config.input ?? null };
    },
  },
  "host-info": HOST_INFO_DATA_SOURCE,
};

type Node =
  | { kind: "local"; id: string; name: string; expr: Expression; sensitive: boolean; range: SourceRange }
  | { kind: "data"; id: string; type: string; name: string; body: Body; range: SourceRange };

export interface LocalsAndData {
  locals: Record<string, Value>;
  data: Record<string, Record<string, Value>>;
  sensitiveLocals: string[];
}

export class LocalsCollector {
  private readonly nodes = new Map<string, Node>();
  /** Members of a reported cycle: never evaluated, and their dependents stay quiet. */
  private readonly cyclic = new Set<string>();

  constructor(private readonly diags: Diagnostic[]) {}

  addLocalsBlock(block: Block): void {
    const attrs = block.body.justAttributes();
    this.diags.push(...attrs.diagnostics);
    for (const a of Object.values(attrs.attributes)) this.addLocal(a.name, a.expr, false, a.range);
  }

  addLocalBlock(block: Block): void {
    const name = block.labels[0]!;
    const { content, diagnostics } = block.body.content({
      attributes: [{ name: "expression", required: true }, { name: "sensitive" }],
    });
    this.diags.push(...diagnostics);
    const expr = content.attributes.expression?.expr;
    if (!expr) return;
    let sensitive = false;
    const s = content.attributes.sensitive;
    if (s) {
      const r = s.expr.evaluate(undefined);
      this.diags.push(...r.diagnostics);
      sensitive = r.value.isKnown && !r.value.isNull && r.value.type.kind === "bool" && r.value.bool;
    }
    this.addLocal(name, expr, sensitive, block.defRange);
  }

  addDataBlock(block: Block): void {
    const [type, name] = block.labels as [string, string];
    const id = `data.${type}.${name}`;
    const prior = this.nodes.get(id);
    if (prior) {
      this.diags.push(errorDiag("Duplicate data block", block.defRange, `This data source was already defined at ${at(prior.range)}.`));
      return;
    }
    this.nodes.set(id, { kind: "data", id, type, name, body: block.body, range: block.defRange });
  }

  private addLocal(name: string, expr: Expression, sensitive: boolean, range: SourceRange): void {
    const id = `local.${name}`;
    const prior = this.nodes.get(id);
    if (prior) {
      this.diags.push(errorDiag("Duplicate local definition", range, `Local variable ${JSON.stringify(name)} was already defined at ${at(prior.range)}.`));
      return;
    }
    this.nodes.set(id, { kind: "local", id, name, expr, sensitive, range });
  }

  /** Evaluates everything in dependency order; `base` holds var, path, packer and the functions. */
  /** With dataSources undefined (inspect), no data source runs: each one's result is unknown. */
  async evaluate(base: EvalContext, dataSources: Record<string, DataSourceImpl> | undefined, external?: ExternalDataSources): Promise<LocalsAndData> {
    const result: LocalsAndData = { locals: {}, data: {}, sensitiveLocals: [] };
    const order = this.order();
    const failed = new Set<string>(this.cyclic);
    for (const id of order) {
      const node = this.nodes.get(id)!;
      // Something this node needs already failed (and said so): stay quiet, mark it failed too.
      const deps = this.dependencies(node);
      if (deps.some((d) => failed.has(d))) {
        failed.add(id);
        continue;
      }
      // Only the locals this node names: building an object of all of them for each of n locals
      // made a long chain of locals quadratic (2,000 took 6 s). A bare `local` still sees them all.
      const locals = this.namesAllLocals(node) ? result.locals : this.localsNamed(deps, result.locals);
      const ctx = base.child({ local: V.object(locals), data: dataValue(result.data) });
      const diags: Diagnostic[] = [];
      if (node.kind === "local") {
        const r = node.expr.evaluate(ctx);
        diags.push(...r.diagnostics);
        if (!diags.some((d) => d.severity === "error")) {
          result.locals[node.name] = node.sensitive ? r.value.mark("sensitive") : r.value;
          if (node.sensitive) result.sensitiveLocals.push(node.name);
        }
      } else if (!dataSources) {
        (result.data[node.type] ??= {})[node.name] = V.unknown();
      } else {
        const impl = dataSources[node.type];
        let ext: ExternalDataSource | undefined;
        if (!impl) {
          try {
            ext = await external?.(node.type);
          } catch (e) {
            diags.push(errorDiag("Failed to start data source", node.range, `${node.id}: ${e instanceof Error ? e.message : String(e)}`));
          }
        }
        if (ext) {
          const decoded = decodeLayers([{ kind: "body", body: node.body }], ctx, { schema: ext.schema, range: node.range });
          diags.push(...decoded.diagnostics);
          if (diags.some((d) => d.severity === "error")) await ext.close();
          else {
            try {
              (result.data[node.type] ??= {})[node.name] = await ext.run(decoded.value);
            } catch (e) {
              diags.push(errorDiag("Data source failed", node.range, `${node.id}: ${e instanceof Error ? e.message : String(e)}`));
            }
          }
        } else if (!impl) {
          const plugins = external ? "; no installed Packer plugin serves it either (imgb init installs a template's required_plugins)" : "";
          if (!diags.length) diags.push(errorDiag("Unknown data source type", node.range, `The data source type ${JSON.stringify(node.type)} is not known; known types: ${Object.keys(dataSources).sort().join(", ")}${plugins}.`));
        } else {
          const decoded = decodeLayers([{ kind: "body", body: node.body }], ctx, { schema: node.type === "null" ? NULL_SCHEMA : impl.schema, range: node.range });
          diags.push(...decoded.diagnostics);
          if (!diags.some((d) => d.severity === "error")) {
            try {
              const out = impl.execute(decoded.value);
              (result.data[node.type] ??= {})[node.name] = fromJson(out);
            } catch (e) {
              diags.push(errorDiag("Data source failed", node.range, e instanceof Error ? e.message : String(e)));
            }
          }
        }
      }
      this.diags.push(...diags);
      if (diags.some((d) => d.severity === "error")) failed.add(id);
    }
    return result;
  }

  private namesAllLocals(node: Node): boolean {
    const traversals: Traversal[] = node.kind === "local" ? node.expr.variables() : bodyTraversals(node.body);
    return traversals.some((t) => t.root === "local" && t.steps[0]?.kind !== "attr");
  }

  private localsNamed(deps: string[], all: Record<string, Value>): Record<string, Value> {
    const out: Record<string, Value> = {};
    for (const d of deps) {
      const name = d.startsWith("local.") ? d.slice(6) : undefined;
      if (name !== undefined && Object.hasOwn(all, name)) out[name] = all[name]!;
    }
    return out;
  }

  /** Local and data ids this node refers to. */
  private dependencies(node: Node): string[] {
    const traversals: Traversal[] = node.kind === "local" ? node.expr.variables() : bodyTraversals(node.body);
    const out: string[] = [];
    for (const t of traversals) {
      const s0 = t.steps[0];
      const s1 = t.steps[1];
      if (t.root === "local" && s0?.kind === "attr") out.push(`local.${s0.name}`);
      if (t.root === "data" && s0?.kind === "attr" && s1?.kind === "attr") out.push(`data.${s0.name}.${s1.name}`);
    }
    return out.filter((id) => this.nodes.has(id));
  }

  /** Topological order (dependencies first); a cycle is reported once and its members dropped. */
  private order(): string[] {
    const state = new Map<string, "visiting" | "done">();
    const out: string[] = [];
    const stack: string[] = [];
    const visit = (id: string): void => {
      const s = state.get(id);
      if (s === "done") return;
      if (s === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(id)), id];
        const node = this.nodes.get(id)!;
        this.diags.push(errorDiag("Cyclic dependency", node.range, `These locals and data sources refer to each other: ${cycle.join(" -> ")}.`));
        for (const c of cycle) {
          state.set(c, "done");
          this.cyclic.add(c);
        }
        return;
      }
      state.set(id, "visiting");
      stack.push(id);
      for (const d of this.dependencies(this.nodes.get(id)!)) visit(d);
      stack.pop();
      if (state.get(id) === "visiting") {
        state.set(id, "done");
        out.push(id);
      }
    };
    for (const id of this.nodes.keys()) visit(id);
    return out;
  }
}

const NULL_SCHEMA = { fields: [{ name: "input", type: "any" as const, required: true }] };

function dataValue(data: Record<string, Record<string, Value>>): Value {
  const types: Record<string, Value> = {};
  for (const [t, byName] of Object.entries(data)) types[t] = V.object(byName);
  return V.object(types);
}

function bodyTraversals(body: Body): Traversal[] {
  const out: Traversal[] = [];
  const { attributes, blocks } = rawContent(body);
  for (const a of attributes) out.push(...(a as Attribute).expr.variables());
  for (const b of blocks) out.push(...bodyTraversals(b.body));
  return out;
}

function at(r: SourceRange): string {
  return `${r.filename}:${r.start.line},${r.start.column}-${r.end.column}`;
}

/** String forms of sensitive values, for masking. */
export function sensitiveStrings(v: Value): string[] {
  const j = toJsonLoose(v);
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (typeof x === "string") {
      if (x !== "") out.push(x);
    } else if (typeof x === "number" || typeof x === "boolean") out.push(String(x));
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === "object") Object.values(x).forEach(walk);
  };
  walk(j);
  return out;
}
