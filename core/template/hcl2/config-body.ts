// ConfigBody for HCL2 components. Bodies are kept unevaluated until a build decodes them, because
// `build.*` (Host, ID, ...) is only known while that build runs; during validate those values are
// unknown and decode to Packer's placeholder.
import type { SourceRange } from "../../errors/diagnostic.ts";
import { BUILDER_DATA_COMMON_KEYS } from "../../builders/common/generated-data.ts";
import { V, type Value } from "../../hcl/value.ts";
import type { ConfigSchema } from "../../config/schema.ts";
import type { JsonValue } from "../../values/json.ts";
import type { BuildContextValues, ConfigBody } from "../model.ts";
import { UNKNOWN_PLACEHOLDER, decodeLayers, type ConfigLayer } from "./decode.ts";
import { contextForBuild } from "../gotemplate/build-context.ts";
import { expandDynamicBlocks, type EvalContext } from "./hcl.ts";


/** Everything a component needs to build its per-build evaluation context. */
export interface ComponentScope {
  /** var, local, data, path, packer and the functions. */
  base: EvalContext;
  /** `build.name`: the build block's name ("" when unnamed). */
  buildBlockName: string;
  templatePath: string;
  packerVersion: string;
}

/**
 * The context a component of one build is evaluated in: base + `source.*` + `build.*`. Before the
 * build runs (validate, prepare) every `build.*` value is the string "<unknown>", as in Packer, so
 * `upper(build.ID)` and `"X=${build.Host}"` still give strings a plugin can check.
 */
export function buildEvalContext(scope: ComponentScope, build: BuildContextValues): EvalContext {
  const generated: Record<string, Value> = {};
  for (const k of BUILDER_DATA_COMMON_KEYS) generated[k] = V.string(build.placeholders ? UNKNOWN_PLACEHOLDER : "");
  for (const [k, v] of Object.entries(build.generated)) generated[k] = build.placeholders ? V.string(UNKNOWN_PLACEHOLDER) : jsonToValue(v);
  generated.name = V.string(scope.buildBlockName);
  return scope.base.child({
    source: V.object({ name: V.string(build.sourceName), type: V.string(build.builderType) }),
    build: V.object(generated),
  });
}

function jsonToValue(j: JsonValue): Value {
  if (typeof j === "string") return V.string(j);
  if (typeof j === "number") return V.string(String(j));
  if (typeof j === "boolean") return V.string(String(j));
  return V.string(j === null ? "" : JSON.stringify(j));
}

export class HclConfigBody implements ConfigBody {
  readonly range?: SourceRange;

  constructor(
    private readonly scope: ComponentScope,
    private readonly layers: ConfigLayer[],
    range: SourceRange | undefined,
    /** Overrides set only some keys: no required checks, no defaults. */
    private readonly partial = false,
  ) {
    if (range) this.range = range;
  }

  decode(build: BuildContextValues, schema?: ConfigSchema) {
    const ctx = buildEvalContext(this.scope, build);
    const layers: ConfigLayer[] = this.layers.map((l) => (l.kind === "body" ? { kind: "body", body: expandDynamicBlocks(l.body, ctx) } : l));
    return decodeLayers(layers, ctx, {
      ...(schema ? { schema } : {}),
      partial: this.partial,
      ...(this.range ? { range: this.range } : {}),
      templateContext: contextForBuild(build, {
        templatePath: this.scope.templatePath,
        packerVersion: this.scope.packerVersion,
      }),
    });
  }
}
