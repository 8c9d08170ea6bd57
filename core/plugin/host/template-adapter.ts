// The one place the plugin host renders Packer Go-template strings for `template_render`.
// Until core/template/gotemplate/ exports `renderTemplate`, this renders the subset plugins use in
// late keys: `{{.Name}}` / `{{ .Name }}` field references (a missing field renders as "<no value>",
// like Go's text/template with a map). Anything else is an error naming the action, so a plugin never
// silently gets a half-rendered command. Swap the body for the engine's renderTemplate when it lands.
import type { JsonValue } from "../../values/json.ts";

export class TemplateRenderError extends Error {
  override name = "TemplateRenderError";
}

function show(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return "<no value>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(" ")}]`;
  return `map[${Object.keys(v)
    .sort()
    .map((k) => `${k}:${show(v[k])}`)
    .join(" ")}]`;
}

export function renderPluginTemplate(template: string, data: Record<string, JsonValue>): string {
  let out = "";
  let pos = 0;
  for (;;) {
    const open = template.indexOf("{{", pos);
    if (open < 0) return out + template.slice(pos);
    const close = template.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateRenderError(`unclosed action in ${JSON.stringify(template)}`);
    out += template.slice(pos, open);
    let action = template.slice(open + 2, close);
    // Go's trim markers: "{{- " and " -}}".
    if (action.startsWith("- ")) {
      out = out.trimEnd();
      action = action.slice(2);
    }
    let trimAfter = false;
    if (action.endsWith(" -")) {
      trimAfter = true;
      action = action.slice(0, -2);
    }
    const m = /^\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(action);
    if (!m) throw new TemplateRenderError(`unsupported template action {{${action}}} in ${JSON.stringify(template)}`);
    out += show(data[m[1]!]);
    pos = close + 2;
    if (trimAfter) {
      while (pos < template.length && /\s/.test(template[pos]!)) pos++;
    }
  }
}
