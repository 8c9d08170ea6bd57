// The one place the plugin host renders Packer Go-template strings for `template_render`: a plugin
// renders its late keys (execute_command with {{.Vars}} and {{.Script}}) with its own dot data,
// through the same engine as JSON templates (core/template/gotemplate).
import type { JsonValue } from "../../values/json.ts";
import type { BuildContextValues } from "../../template/model.ts";
import { renderString, type TemplateContext } from "../../template/gotemplate/index.ts";

export class TemplateRenderError extends Error {
  override name = "TemplateRenderError";
}

export function renderPluginTemplate(template: string, data: Record<string, JsonValue>, build?: BuildContextValues, templateDir?: string): string {
  const ctx: TemplateContext = {};
  if (build) {
    ctx.buildName = build.buildName;
    ctx.buildType = build.builderType;
    ctx.build = { generated: build.generated, placeholders: build.placeholders };
    if (build.userVariables) {
      const vars: Record<string, string> = {};
      for (const [k, v] of Object.entries(build.userVariables)) vars[k] = typeof v === "string" ? v : JSON.stringify(v);
      ctx.userVariables = vars;
    }
  }
  if (templateDir) ctx.templatePath = `${templateDir}/template`;
  try {
    return renderString(template, data, ctx);
  } catch (e) {
    throw new TemplateRenderError(e instanceof Error ? e.message : String(e));
  }
}
