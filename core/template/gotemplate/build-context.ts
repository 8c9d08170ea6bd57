// The one template context of a build: every renderer of Go-template strings for a component or a
// builder (JSON config bodies, HCL2 bodies, the plugin host's `template_render` for late keys, the
// builders' run-time commands) takes its build facts from here, so `{{build_name}}` means the same
// wherever it is rendered.
import type { JsonValue } from "../../values/json.ts";
import type { BuildContextValues } from "../model.ts";
import type { TemplateContext } from "./packer-funcs.ts";

/** What the template adds to a build's facts; each renderer gives what its format has. */
export interface TemplateFacts {
  /** `{{user}}` values; absent: user variables are not available to this renderer. */
  userVariables?: Readonly<Record<string, string>>;
  templatePath?: string;
  now?: Date;
  packerVersion?: string;
}

export function contextForBuild(build: BuildContextValues, facts: TemplateFacts = {}): TemplateContext {
  return {
    // Packer's packer_build_name: the source's name in HCL2 (hcl2template's builderVariables, which
    // the plugin renders {{build_name}} with); in legacy JSON the build's name, which is the same.
    buildName: build.sourceName,
    buildType: build.builderType,
    // The build object itself: `generated` is read live, as a builder step sets build.* values.
    build,
    ...(facts.userVariables ? { userVariables: facts.userVariables } : {}),
    ...(facts.templatePath !== undefined ? { templatePath: facts.templatePath } : {}),
    ...(facts.now ? { now: facts.now } : {}),
    ...(facts.packerVersion !== undefined ? { packerVersion: facts.packerVersion } : {}),
  };
}

/** `{{user}}` takes strings: other variable values render as their JSON. */
export function userVariableStrings(vars: Readonly<Record<string, JsonValue>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}
