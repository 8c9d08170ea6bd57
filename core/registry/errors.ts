// Every refusal names the registry (and the plugin, when one is involved) and says why, so a user
// reading one line knows what was refused and what to do. `code` lets callers and tests tell
// the reasons apart without matching on text.
import { UserError } from "../errors/diagnostic.ts";

export type RegistryErrorCode =
  | "bad-document" // does not parse or does not match its schema
  | "bad-signature" // too few valid signatures from the role's keys, or a signature by an unknown key
  | "rollback" // a version lower than one already seen
  | "expired" // freeze attack or a registry nobody re-signed in time
  | "mismatch" // hash or length differs from what signed metadata says (tampering, mix-and-match)
  | "too-large" // a download exceeded its cap
  | "bad-name" // plugin name outside the allowed charset (path traversal and friends)
  | "unreachable" // network failure or an HTTP error
  | "redirect" // an OCI registry redirected a request to another host
  | "not-found" // no such plugin or no version satisfies the constraint
  | "capabilities" // capabilities not accepted, or more than the lock grants
  | "unsigned" // an unsigned plugin without --allow-unsigned
  | "lock" // lock file problems
  | "usage"; // bad arguments to a registry tool

export class RegistryError extends UserError {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly where: { registry?: string; plugin?: string } = {},
  ) {
    const prefix = [
      where.registry !== undefined ? `registry ${where.registry}` : undefined,
      where.plugin !== undefined ? `plugin ${where.plugin}` : undefined,
    ]
      .filter((p) => p !== undefined)
      .join(": ");
    super(prefix ? `${prefix}: ${message}` : message);
    this.name = "RegistryError";
  }
}
