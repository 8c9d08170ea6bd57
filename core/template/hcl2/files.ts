// Which files make up an HCL2 template, as Packer finds them: TEMPLATE is one `.pkr.hcl` /
// `.pkr.json` file, or a folder whose `*.pkr.hcl` and `*.pkr.json` files (not sub-folders) are all
// loaded, HCL files first, each group in name order. Only a folder contributes its
// `*.auto.pkrvars.hcl` / `*.auto.pkrvars.json` files.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { errorDiag, type Diagnostic } from "../../errors/diagnostic.ts";

export interface TemplateFiles {
  /** The folder `path.root` names. */
  root: string;
  configFiles: string[];
  autoVarFiles: string[];
  diagnostics: Diagnostic[];
}

const CONFIG_HCL = ".pkr.hcl";
const CONFIG_JSON = ".pkr.json";
const AUTO_VARS_HCL = ".auto.pkrvars.hcl";
const AUTO_VARS_JSON = ".auto.pkrvars.json";

export function findTemplateFiles(path: string): TemplateFiles {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return { root: path, configFiles: [], autoVarFiles: [], diagnostics: [errorDiag(`Failed to read template: ${path}: no such file or directory`)] };
  }
  if (!isDir) {
    const root = dirnameOf(path);
    if (path.endsWith(CONFIG_HCL) || path.endsWith(CONFIG_JSON)) return { root, configFiles: [path], autoVarFiles: [], diagnostics: [] };
    return {
      root,
      configFiles: [],
      autoVarFiles: [],
      diagnostics: [errorDiag(`Could not find any config file in ${path}`, undefined, `A template file must end in ${CONFIG_HCL} or ${CONFIG_JSON}.`)],
    };
  }
  const names = readdirSync(path, { withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => e.name)
    .sort();
  const pick = (suffix: string) => names.filter((n) => n.endsWith(suffix)).map((n) => join(path, n));
  const configFiles = [...pick(CONFIG_HCL), ...pick(CONFIG_JSON)];
  const autoVarFiles = [...pick(AUTO_VARS_HCL), ...pick(AUTO_VARS_JSON)];
  const diagnostics =
    configFiles.length === 0
      ? [errorDiag(`Could not find any config file in ${path}`, undefined, `A folder template needs at least one ${CONFIG_HCL} or ${CONFIG_JSON} file.`)]
      : [];
  return { root: path, configFiles, autoVarFiles, diagnostics };
}

function dirnameOf(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  if (i === 0) return "/";
  return path.slice(0, i);
}
