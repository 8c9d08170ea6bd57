// The UI flags every verb that prints build output shares (-color, -timestamp-ui, -machine-readable, -json-events).
import { Output, type OutputMode } from "../ui/output.ts";

export interface UiFlags {
  color: boolean;
  timestampUi: boolean;
  machineReadable: boolean;
  jsonEvents: boolean;
}

export function makeOutput(flags: UiFlags, sensitive: string[], write: (s: string) => void): Output {
  const mode: OutputMode = flags.jsonEvents ? "json" : flags.machineReadable ? "machine" : "human";
  // Bars only where a person watches: human output to a terminal.
  const terminal = mode === "human" && process.stdout.isTTY ? { terminal: process.stdout } : {};
  return new Output({ mode, color: flags.color && mode === "human", timestamp: flags.timestampUi, sensitive, write, ...terminal });
}
