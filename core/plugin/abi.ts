// Valibot schemas for what a plugin answers (ABI imgb-plugin/1). Plugin output is untrusted: a
// malformed answer is a clear error naming the plugin, never a crash in the engine.
import { LIMITS, nestingDepth, nestingMessage } from "../values/limits.ts";
import { describeIssues } from "../errors/valibot-issues.ts";
import * as v from "valibot";
import type { JsonObject, JsonValue } from "../values/json.ts";
import { ConfigFieldSchema } from "../config/schema.ts";
import { ABI_VERSION, type PluginDescription, type PluginKind } from "./types.ts";

const Json = v.unknown() as v.GenericSchema<JsonValue>;
const JsonObj = v.record(v.string(), Json) as v.GenericSchema<JsonObject>;

export const DescriptionSchema = v.object({
  kind: v.picklist(["provisioner", "post-processor"]),
  name: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9_.\/-]*$/i, "must be a plugin type name like shell-local or acme/hello")),
  abi: v.literal(ABI_VERSION),
  version: v.string(),
  schema: v.object({
    fields: v.array(ConfigFieldSchema),
    allow_unknown: v.optional(v.boolean()),
    allowUnknown: v.optional(v.boolean()),
  }),
  capabilities: v.array(v.string()),
});

export const PrepareOutputSchema = v.union([
  v.object({ config: JsonObj, warnings: v.optional(v.array(v.string()), []) }),
  v.object({ errors: v.pipe(v.array(v.string()), v.minLength(1)), warnings: v.optional(v.array(v.string()), []) }),
]);

/** provision answers an empty object (or nothing). */
export const ProvisionOutputSchema = v.record(v.string(), Json);

export const ArtifactJsonSchema = v.object({
  builder_id: v.string(),
  id: v.string(),
  files: v.array(v.string()),
  string: v.string(),
  state: v.optional(JsonObj, {}),
});
export type ArtifactJson = v.InferOutput<typeof ArtifactJsonSchema>;

export const PostProcessOutputSchema = v.object({
  artifact: ArtifactJsonSchema,
  keep: v.boolean(),
  force_override: v.optional(v.boolean(), false),
});

/** Parses an export's output text as JSON and checks it; returns an error message on failure. */
export function parseOutput<T>(
  schema: v.GenericSchema<unknown, T>,
  fn: string,
  text: string,
): { ok: true; value: T } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    const preview = text.slice(0, 60).replace(/[^\x20-\x7e]/g, "?");
    return { ok: false, message: `${fn} answered something that is not JSON (${text.length} bytes starting ${JSON.stringify(preview)})` };
  }
  // The same bound as every request (host/gate.ts): what the engine keeps and walks (a prepared config,
  // an artifact's state) is never deeper than a template may be.
  if (nestingDepth(raw) > LIMITS.maxNesting) return { ok: false, message: `${fn} answered a result ${nestingMessage("that")}` };
  const r = v.safeParse(schema, raw);
  if (!r.success) {
    return { ok: false, message: `${fn} answered a malformed result: ${describeIssues(r.issues, 1)}` };
  }
  return { ok: true, value: r.output };
}

export function toDescription(d: v.InferOutput<typeof DescriptionSchema>): PluginDescription {
  const allowUnknown = d.schema.allow_unknown ?? d.schema.allowUnknown;
  const fields = d.schema.fields.map((f) => {
    const out: PluginDescription["schema"]["fields"][number] = { name: f.name, type: f.type };
    if (f.required !== undefined) out.required = f.required;
    if (f.default !== undefined) out.default = f.default;
    if (f.late !== undefined) out.late = f.late;
    if (f.description !== undefined) out.description = f.description;
    return out;
  });
  return {
    kind: d.kind as PluginKind,
    name: d.name,
    abi: ABI_VERSION,
    version: d.version,
    schema: allowUnknown === undefined ? { fields } : { fields, allowUnknown },
    capabilities: d.capabilities,
  };
}
