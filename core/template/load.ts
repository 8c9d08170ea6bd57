// Picks the loader by what TEMPLATE names, as Packer does: a `.json` file that is not `.pkr.json`
// is a legacy JSON template; a folder, `.pkr.hcl` or `.pkr.json` is HCL2.
import { statSync } from "node:fs";
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

export async function loadTemplate(path: string, opts: LoadOptions): Promise<Template> {
  if (templateFormatOf(path) === "json") {
    const { loadJsonTemplate } = await import("./json/index.ts");
    return loadJsonTemplate(path, opts);
  }
  const { loadHcl2Template } = await import("./hcl2/index.ts");
  return loadHcl2Template(path, opts);
}
