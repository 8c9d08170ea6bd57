// Maps what core throws to what a user sees and the exit code Packer would give. No stack traces,
// except with IMGB_DEBUG=1.
import { DiagnosticsError, UserError } from "../core/errors/diagnostic.ts";
import { renderDiagnostic } from "../core/ui/diagnostics.ts";
import { terminalSafe } from "../core/ui/sanitize.ts";

export function reportError(err: unknown): number {
  if (err instanceof DiagnosticsError) {
    for (const d of err.diagnostics) process.stderr.write(renderDiagnostic(d) + "\n");
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${terminalSafe(message)}\n`);
  if (process.env["IMGB_DEBUG"] && err instanceof Error && !(err instanceof UserError) && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  }
  return 1;
}
