// `imgb inspect`: what a template contains — variables, builds, provisioners, post-processors —
// without running or validating anything, in Packer's inspect layout (and its -machine-readable
// records, which scripts grep: amazon-eks-ami's Makefile reads `template-variable`). Variables need
// not be set and data sources are not run: inspect is a read-only view.
import { UserError } from "../errors/diagnostic.ts";
import { maskSecrets } from "../ui/secrets.ts";
import { loadTemplate } from "../template/load.ts";
import type { InspectView } from "../template/model.ts";
import { machineEscape } from "../ui/output.ts";
import { builderFactory } from "../builders/registry.ts";
import { findComponent } from "../packer-plugin/discover.ts";
import { nativePluginNote } from "../builders/packer-plugin/index.ts";
import { goQuote } from "../hcl/index.ts";

export interface InspectOptions {
  template: string;
  vars: Array<[string, string]>;
  varFiles: string[];
  machineReadable: boolean;
}

export async function inspectCommand(opts: InspectOptions): Promise<number> {
  const template = await loadTemplate(opts.template, { vars: opts.vars, varFiles: opts.varFiles, env: process.env, inspect: true });
  if (!template.inspectView) throw new UserError(`${opts.template}: nothing to inspect`);
  // Builders served by Packer plugins are named with their binary: that code runs unsandboxed.
  const notes = new Map<string, string>();
  const types = template.inspectView.format === "json" ? template.inspectView.builders.map((b) => b.type) : template.builds.map((b) => b.builderType);
  for (const type of types) {
    if (builderFactory(type) || notes.has(type)) continue;
    const binary = await findComponent("builder", type, undefined, false);
    notes.set(type, binary ? nativePluginNote(binary) : "unknown builder: no imgb builder and no Packer plugin serves it");
  }
  // The same masking as every other verb (core/ui/secrets.ts), over the whole listing.
  process.stdout.write(maskSecrets(renderInspect(template.inspectView, opts.machineReadable, Math.floor(Date.now() / 1000), notes)));
  return 0;
}

/** Packer's ui.Say / ui.Machine pair: plain lines, or `TS,,ui,say,TEXT` and `TS,,TYPE,DATA...`. */
class InspectUi {
  private readonly out: string[] = [];
  constructor(
    private readonly machineReadable: boolean,
    private readonly unix: number,
  ) {}
  say(text: string): void {
    this.out.push(this.machineReadable ? `${this.unix},,ui,say,${machineEscape(text)}` : text);
  }
  machine(type: string, ...data: string[]): void {
    if (this.machineReadable) this.out.push([String(this.unix), "", type, ...data.map(machineEscape)].join(","));
  }
  text(): string {
    return this.out.join("\n") + "\n";
  }
}

export function renderInspect(view: InspectView, machineReadable = false, unix = 0, builderNotes: ReadonlyMap<string, string> = new Map()): string {
  const ui = new InspectUi(machineReadable, unix);
  if (view.format === "json") renderJson(view, ui);
  else renderHcl2(view, ui);
  // After Packer's layout, so scripts reading it are not disturbed.
  if (builderNotes.size) {
    ui.say("\nBuilders imgb does not have:\n");
    for (const [type, note] of [...builderNotes].sort()) ui.say(`  ${type}: ${note}`);
  }
  return ui.text();
}

function renderJson(view: Extract<InspectView, { format: "json" }>, ui: InspectUi): void {
  ui.say("Packer Inspect: JSON mode");
  if (view.description) {
    ui.say("Description:\n");
    ui.say(view.description + "\n");
  }
  const shown = (v: { default: string; sensitive: boolean }) => (v.sensitive ? "<sensitive>" : v.default);
  const vars = [...view.variables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (vars.length === 0) {
    ui.say("Variables:\n");
    ui.say("  <No variables>");
  } else {
    const required = vars.filter((v) => v.required);
    if (required.length) {
      ui.say("Required variables:\n");
      for (const v of required) {
        ui.machine("template-variable", v.name, shown(v), "1");
        ui.say("  " + v.name);
      }
      ui.say("");
    }
    ui.say("Optional variables and their defaults:\n");
    const width = Math.max(...vars.map((v) => v.name.length));
    for (const v of vars.filter((x) => !x.required)) {
      ui.machine("template-variable", v.name, shown(v), "0");
      ui.say(`  ${v.name.padEnd(width)} = ${shown(v)}`);
    }
  }
  ui.say("");
  ui.say("Builders:\n");
  if (view.builders.length === 0) ui.say("  <No builders>");
  const builders = [...view.builders].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const width = Math.max(0, ...builders.map((b) => b.name.length));
  for (const b of builders) {
    ui.machine("template-builder", b.name, b.type);
    ui.say(`  ${b.name.padEnd(width)}${b.name !== b.type ? ` (${b.type})` : ""}`);
  }
  ui.say("");
  ui.say("Provisioners:\n");
  if (view.provisioners.length === 0) ui.say("  <No provisioners>");
  for (const p of view.provisioners) {
    ui.machine("template-provisioner", p);
    ui.say(`  ${p}`);
  }
  // Packer's JSON inspect leaves post-processors out; they are part of what a template contains.
  if (view.postProcessors.length) {
    ui.say("");
    ui.say("Post-processors:\n");
    view.postProcessors.forEach((chain, i) => {
      for (const pp of chain) ui.machine("template-post-processor", String(i), pp);
      ui.say(`  ${i}: ${chain.join(" -> ")}`);
    });
  }
  ui.say(
    "\nNote: If your build names contain user variables or template\n" +
      "functions such as 'timestamp', these are processed at build time,\n" +
      "and therefore only show in their raw form here.",
  );
}

function renderHcl2(view: Extract<InspectView, { format: "hcl2" }>, ui: InspectUi): void {
  ui.say("Packer Inspect: HCL2 mode\n");
  let vars = "> input-variables:\n\n";
  for (const v of view.variables) vars += `var.${v.name}: ${goQuote(v.shown)}\n`;
  vars += "\n> local-variables:\n\n";
  for (const l of view.locals) vars += `local.${l.name}: ${goQuote(l.shown)}\n`;
  ui.say(vars);
  let out = "> builds:\n";
  view.builds.forEach((b, i) => {
    out += `\n  > ${b.name || `<unnamed build ${i}>`}:\n`;
    if (b.description) out += `\n  > Description: ${b.description}\n`;
    out += "\n    sources:\n";
    if (b.sources.length === 0) out += "\n      <no source>\n";
    for (const s of b.sources) out += `\n      ${s}\n`;
    out += "\n    provisioners:\n\n";
    if (b.provisioners.length === 0) out += "      <no provisioner>\n";
    for (const p of b.provisioners) out += `      ${p}\n`;
    out += "\n    post-processors:\n";
    if (b.postProcessors.length === 0) out += "\n      <no post-processor>\n";
    b.postProcessors.forEach((chain, j) => {
      out += `\n      ${j}:\n`;
      for (const pp of chain) out += `        ${pp}\n`;
    });
  });
  ui.say(out);
}

