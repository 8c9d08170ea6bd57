// Flag declarations shared by several verbs, and their parsing into core's option types.
import { UserError } from "../core/errors/diagnostic.ts";
import type { OnErrorMode } from "../core/builders/types.ts";
import type { ParsedFlags } from "./resolve.ts";

export const templateArg = { type: "positional", required: true, description: "template file or folder" } as const;

export const varArgs = {
  var: { type: "string", description: "variable for templates, can be used multiple times: -var key=value" },
  "var-file": { type: "string", description: "JSON or HCL2 file containing user variables, can be used multiple times" },
} as const;

export const filterArgs = {
  only: { type: "string", description: "build only the specified builds (comma-separated)" },
  except: { type: "string", description: "build all builds other than these (comma-separated)" },
} as const;

export const uiArgs = {
  color: { type: "boolean", default: true, description: "-color=false disables colour output" },
  "timestamp-ui": { type: "boolean", default: false, description: "prefix each UI line with an RFC3339 timestamp" },
  "machine-readable": { type: "boolean", default: false, description: "Packer's machine-readable output" },
  "json-events": { type: "boolean", default: false, description: "one JSON object per line, for CI" },
} as const;

/** `-var k=v`, repeatable: the values citty declares, as the one flag reading gave them. */
export function parseVars(flags: ParsedFlags): Array<[string, string]> {
  return flags.all("var").map((kv) => {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UserError(`-var "${kv}": expected the form key=value`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

export function parseFilters(flags: ParsedFlags): { only: string[]; except: string[] } {
  const only = flags.list("only");
  const except = flags.list("except");
  if (only.length && except.length) throw new UserError("Only one of -only or -except may be specified.");
  return { only, except };
}

const ON_ERROR: OnErrorMode[] = ["cleanup", "abort", "ask", "run-cleanup-provisioner"];

export function parseOnError(value: string | undefined): OnErrorMode {
  const v = value ?? "cleanup";
  if (!(ON_ERROR as string[]).includes(v)) throw new UserError(`-on-error=${v}: expected one of ${ON_ERROR.join(", ")}`);
  return v as OnErrorMode;
}

export function parseCount(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`-${name}=${value}: expected a whole number`);
  return n;
}

export function uiFlags(args: Record<string, unknown>) {
  return {
    color: args["color"] !== false,
    timestampUi: args["timestamp-ui"] === true,
    machineReadable: args["machine-readable"] === true,
    jsonEvents: args["json-events"] === true,
  };
}
