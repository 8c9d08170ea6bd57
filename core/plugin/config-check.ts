// Checks configs against a plugin's declared ConfigSchema before the plugin sees them, with the one
// config decoder (core/config/decode.ts: Packer's weak typing). Packer hands a plugin several raw
// configs (the component's, then an override); each is decoded on its own, the schema's defaults go
// first, and a required key must be set in one of them.
import { complete, decode, type DecodeIssue } from "../config/decode.ts";
import { issueDiagnostic } from "../config/messages.ts";
import type { ConfigSchema } from "../config/schema.ts";
import { errorDiag, type Diagnostic } from "../errors/diagnostic.ts";
import type { JsonObject } from "../values/json.ts";
import { LIMITS, nestingDepth, nestingMessage } from "../values/limits.ts";

/**
 * Checks and converts each config; returns the converted configs (defaults first, when the schema
 * declares any) and the diagnostics. `plugin` names the plugin in every diagnostic.
 */
export function checkConfigs(plugin: string, schema: ConfigSchema, configs: JsonObject[]): { configs: JsonObject[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const where = `plugin ${plugin}`;
  const issues: DecodeIssue[] = [];
  const out: JsonObject[] = [];
  const defaults: JsonObject = {};
  complete({ fields: schema.fields.map((f) => ({ ...f, required: false })) }, defaults, new Set());
  if (Object.keys(defaults).length > 0) out.push(defaults);
  const given = new Set<string>();
  for (const config of configs) {
    const shallow: JsonObject = {};
    for (const [key, value] of Object.entries(config)) {
      // Templates' parsers bound nesting already; decoded values (jsondecode, yamldecode) are bounded
      // too, so this is the last guard before a deep value is serialized for the sandbox.
      if (nestingDepth(value) > LIMITS.maxNesting) diagnostics.push(errorDiag(nestingMessage(`the value of ${key}`), undefined, where));
      else shallow[key] = value;
    }
    const r = decode(schema, shallow, { partial: true });
    issues.push(...r.issues);
    for (const [key, value] of Object.entries(config)) if (value !== null) given.add(key);
    out.push(r.value);
  }
  issues.push(...complete({ fields: schema.fields.filter((f) => f.required) }, {}, given));
  diagnostics.push(...issues.map((i) => issueDiagnostic(i, { detail: where })));
  return { configs: out, diagnostics };
}
