// The one place the plugin host renders Packer Go-template strings for `template_render`: a plugin
// renders its late keys (execute_command with {{.Vars}} and {{.Script}}) with its own dot data,
// through the same engine as JSON templates (core/template/gotemplate).
import type { JsonValue } from "../../values/json.ts";
import type { BuildContextValues } from "../../template/model.ts";
import { contextForBuild, renderString, userVariableStrings, type TemplateContext } from "../../template/gotemplate/index.ts";

export class TemplateRenderError extends Error {
  override name = "TemplateRenderError";
}

export function renderPluginTemplate(template: string, data: Record<string, JsonValue>, build?: BuildContextValues, templateDir?: string): string {
  const templatePath = templateDir ? `${templateDir}/template` : undefined;
  const ctx: TemplateContext = build
    ? contextForBuild(build, {
        ...(build.userVariables ? { userVariables: userVariableStrings(build.userVariables) } : {}),
        ...(templatePath ? { templatePath } : {}),
      })
    : templatePath
      ? { templatePath }
      : {};
  try {
    return renderString(template, data, ctx);
  } catch (e) {
    throw new TemplateRenderError(e instanceof Error ? e.message : String(e));
  }
}
