// The one place the plugin host renders Packer Go-template strings for `template_render`: a plugin
// renders its late keys (execute_command with {{.Vars}} and {{.Script}}) with its own dot data,
// through the same engine as JSON templates (core/template/gotemplate).
import type { JsonValue } from "../../values/json.ts";
import type { BuildContextValues } from "../../template/model.ts";
import { contextForBuild, renderString, userVariableStrings, type TemplateContext } from "../../template/gotemplate/index.ts";
import { WorkBudget, withWorkBudget } from "../../values/limits.ts";

/** Work one `template_render` may take (characters built plus steps): ~0.5 s of the host's time at most. */
export const PLUGIN_RENDER_WORK = 32 * 2 ** 20;

/**
 * The build values a component's run sees through `template_render`: only the user variables its own
 * template configuration names with `user` (`{{user `x`}}`, `{{ user "x" }}`, kept verbatim in its
 * late keys; the other keys reach the plugin rendered). Without this any plugin read every variable —
 * `sensitive-variables` too — by rendering `{{user `name`}}` itself. `configText` is the JSON of the
 * configs the template gave the component (before the plugin saw them).
 */
export function variablesGivenTo(build: BuildContextValues, configText: string): BuildContextValues {
  if (!build.userVariables) return build;
  const named = new Set<string>();
  for (const m of configText.matchAll(/\buser\s+(?:`([^`]*)`|\\"([^"\\]*)\\")/g)) named.add(m[1] ?? m[2] ?? "");
  const given = Object.fromEntries(Object.entries(build.userVariables).filter(([k]) => named.has(k)));
  return { ...build, userVariables: given };
}

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
    // The host renders on its one thread: a budget of its own per call bounds how long it is held.
    return withWorkBudget(new WorkBudget(PLUGIN_RENDER_WORK, "one template_render"), () => renderString(template, data, ctx));
  } catch (e) {
    throw new TemplateRenderError(e instanceof Error ? e.message : String(e));
  }
}
