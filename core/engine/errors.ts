// How an error reads where the engine reports it (a build's closing line, validate's diagnostics,
// a retry line, a failed cleanup): the one description every part of the engine uses.
import { DiagnosticsError, formatDiagnostic } from "../errors/diagnostic.ts";
import { PluginCallError } from "../plugin/runtime.ts";

export function describeError(err: unknown): string {
  if (err instanceof DiagnosticsError) return err.diagnostics.map(formatDiagnostic).join("\n");
  // A plugin's own error reads as Packer's component error ("Script exited with ..."); host-side
  // failures (refusals, limits) keep the plugin's name so the user knows which sandbox it was.
  if (err instanceof PluginCallError && err.origin === "plugin") return err.detail;
  return err instanceof Error ? err.message : String(err);
}
