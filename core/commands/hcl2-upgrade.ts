// `imgb hcl2_upgrade [-output-file=PATH] [-with-annotations] TEMPLATE.json`: writes the HCL2 form
// of a legacy JSON template (default TEMPLATE.json.pkr.hcl). As Packer, problems that still allow
// an upgrade (an unknown builder type) are reported and the file is written, with exit status 1.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { UserError } from "../errors/diagnostic.ts";
import { builderTypes } from "../builders/registry.ts";
import { upgradeJsonTemplate, UpgradeParseError } from "../template/hcl2/upgrade/index.ts";

export interface Hcl2UpgradeOptions {
  template: string;
  outputFile?: string;
  withAnnotations: boolean;
  say: (line: string) => void;
  error: (line: string) => void;
}

export function hcl2UpgradeCommand(opts: Hcl2UpgradeOptions): number {
  const output = opts.outputFile || `${opts.template}.pkr.hcl`;
  let raw: string;
  try {
    raw = readFileSync(opts.template, "utf8");
  } catch {
    throw new UserError(`Failed to read template: ${opts.template}: no such file or directory`);
  }
  let result;
  try {
    // Packer's core builders, and imgb's own, need no required_plugins entry.
    result = upgradeJsonTemplate(raw, { withAnnotations: opts.withAnnotations, builtinBuilders: new Set(["file", "null", ...builderTypes()]) });
  } catch (e) {
    if (e instanceof UpgradeParseError) throw new UserError(e.message);
    throw e;
  }
  try {
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, result.text);
  } catch (e) {
    throw new UserError(`Failed to create output file: ${(e as Error).message}`);
  }
  for (const err of result.errors) opts.error(`Ignoring following sources.Parse error: ${err}`);
  const code = result.errors.length > 0 ? 1 : 0;
  opts.say(`Successfully created ${output}. Exit ${code}`);
  return code;
}
