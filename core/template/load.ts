// Picks the loader by what TEMPLATE names, as Packer does: a `.json` file that is not `.pkr.json`
// is a legacy JSON template; a folder, `.pkr.hcl` or `.pkr.json` is HCL2.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors/diagnostic.ts";
import type { LoadOptions, Template } from "./model.ts";

export function templateFormatOf(path: string): "json" | "hcl2" {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UserError(`Failed to read template: ${path}: no such file or directory`);
  }
  if (isDir) return "hcl2";
  if (path.endsWith(".json") && !path.endsWith(".pkr.json")) return "json";
  return "hcl2";
}

/** TEMPLATE "-" reads the template from standard input (legacy JSON or HCL2, told apart by its first character). */
async function loadFromStdin(opts: LoadOptions): Promise<Template> {
  const text = await Bun.stdin.text();
  const dir = mkdtempSync(join(tmpdir(), "imgb-stdin-"));
  try {
    const file = join(dir, text.trimStart().startsWith("{") ? "stdin.json" : "stdin.pkr.hcl");
    writeFileSync(file, text);
    const template = await loadTemplate(file, opts);
    // Relative paths in a piped template are relative to where imgb runs.
    return { ...template, dir: process.cwd() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function loadTemplate(path: string, opts: LoadOptions): Promise<Template> {
  if (path === "-") return loadFromStdin(opts);
  if (templateFormatOf(path) === "json") {
    const { loadJsonTemplate } = await import("./json/index.ts");
    return loadJsonTemplate(path, opts);
  }
  const { loadHcl2Template } = await import("./hcl2/index.ts");
  return loadHcl2Template(path, opts);
}
