// `imgb inspect`: what a template contains — variables, builds, provisioners, post-processors —
// without running or validating anything.
import { loadTemplate } from "../template/load.ts";
import type { Template } from "../template/model.ts";
import { builderFactory } from "../builders/registry.ts";
import { findComponent } from "../packer-plugin/discover.ts";
import { nativePluginNote } from "../builders/packer-plugin/index.ts";

export async function inspectCommand(path: string, vars: Array<[string, string]>, varFiles: string[]): Promise<number> {
  const template = await loadTemplate(path, { vars, varFiles, env: process.env });
  // Builders served by Packer plugins are named with their binary: that code runs unsandboxed.
  const notes = new Map<string, string>();
  for (const b of template.builds) {
    if (builderFactory(b.builderType) || notes.has(b.builderType)) continue;
    const binary = await findComponent("builder", b.builderType, undefined, false);
    notes.set(b.builderType, binary ? nativePluginNote(binary) : "unknown builder: no imgb builder and no Packer plugin serves it");
  }
  process.stdout.write(renderInspect(template, notes));
  return 0;
}

export function renderInspect(t: Template, builderNotes: ReadonlyMap<string, string> = new Map()): string {
  const sensitive = new Set(t.sensitiveValues);
  const lines: string[] = [`imgb inspect: ${t.format === "json" ? "JSON" : "HCL2"} mode`];
  if (t.description) lines.push(`Description:`, "", t.description, "");
  lines.push("Variables:", "");
  const names = Object.keys(t.variables).sort();
  if (!names.length) lines.push("  <No variables>");
  for (const name of names) {
    const v = t.variables[name];
    const shown = typeof v === "string" && sensitive.has(v) ? "<sensitive>" : JSON.stringify(v);
    lines.push(`  ${name} = ${shown}`);
  }
  lines.push("", "Builds:", "");
  for (const b of t.builds) {
    const note = builderNotes.get(b.builderType);
    lines.push(`  ${b.name} (${b.builderType})${note ? ` — ${note}` : ""}`);
    for (const p of b.provisioners) lines.push(`    provisioner ${p.type}${p.name ? ` "${p.name}"` : ""}`);
    if (b.errorCleanupProvisioner) lines.push(`    error-cleanup-provisioner ${b.errorCleanupProvisioner.type}`);
    b.postProcessors.forEach((chain, i) => lines.push(`    post-processors chain ${i + 1}: ${chain.map((pp) => pp.type).join(" -> ")}`));
  }
  lines.push("");
  return lines.join("\n") + "\n";
}
