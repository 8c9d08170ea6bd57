// The interpolation context a component's late keys are rendered with at run time (the plugin host's
// `template_render`): the template's user variables and path plus one build's values, as Packer's
// provisioners get them through packer_user_variables / packer_build_name / packer_template_path.
import type { JsonValue } from "../../values/json.ts";
import type { BuildContextValues } from "../model.ts";
import type { TemplateContext } from "./packer-funcs.ts";

export function contextForBuild(
  template: { path: string; variables: Readonly<Record<string, JsonValue>> },
  build: BuildContextValues,
): TemplateContext {
  const userVariables: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.variables)) userVariables[k] = typeof v === "string" ? v : JSON.stringify(v);
  return {
    userVariables,
    templatePath: template.path,
    buildName: build.buildName,
    buildType: build.builderType,
    build,
  };
}
