// A builder's config, decoded like a Go struct: every field present (default or zero value), typed
// from the schema itself (ConfigOf), problems prefixed with the builder's type as its other checks are.
import type { Diagnostic } from "../errors/diagnostic.ts";
import type { JsonObject } from "../values/json.ts";
import { decode } from "./decode.ts";
import { issueDiagnostic } from "./messages.ts";
import type { ConfigField, ConfigOf } from "./schema.ts";

export function decodeTyped<const F extends readonly ConfigField[]>(
  who: string,
  schema: { fields: F; allowUnknown?: boolean },
  raw: JsonObject,
): { value?: ConfigOf<F>; diagnostics: Diagnostic[] } {
  const { value, issues } = decode(schema, raw, { zeroFill: true });
  const diagnostics = issues.map((i) => issueDiagnostic(i, { prefix: who }));
  if (diagnostics.length > 0) return { diagnostics };
  // Safe: every field was converted to its declared type or filled with its default or zero value.
  return { value: value as ConfigOf<F>, diagnostics };
}
