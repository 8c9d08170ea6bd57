// -var-file for legacy JSON templates: one JSON object of string values (Packer decodes it into a
// map[string]string, so null is "" and any other value type is an error).
import { decodeSourceText } from "../source-text.ts";
import { errorDiag, type Diagnostic } from "../../errors/diagnostic.ts";
import { parseJson, reportedDuplicates, type JsonNode, type JsonStringNode } from "./positioned-json.ts";
import { SourceFile } from "../../source/source-file.ts";
import { jsonSyntaxDiagnostic } from "./syntax-error.ts";

export interface VarFileEntry {
  name: string;
  value: JsonStringNode;
  src: SourceFile;
}

export async function readVarFile(path: string): Promise<{ entries: VarFileEntry[]; diagnostics: Diagnostic[] }> {
  let text: string;
  try {
    const read = decodeSourceText(path, await Bun.file(path).bytes(), "keep");
    if (!read.ok) return { entries: [], diagnostics: [read.diagnostic] };
    text = read.text;
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : String((e as Error).message);
    return { entries: [], diagnostics: [errorDiag(`Error reading variables in '${path}': open ${path}: ${reason}`)] };
  }
  return parseVarFile(new SourceFile(path, text));
}

export function parseVarFile(src: SourceFile): { entries: VarFileEntry[]; diagnostics: Diagnostic[] } {
  const prefix = `Error reading variables in '${src.filename}': `;
  const parsed = parseJson(src);
  if (!parsed.ok) {
    const d = jsonSyntaxDiagnostic(src, parsed.error);
    return { entries: [], diagnostics: [{ ...d, summary: prefix + d.summary }] };
  }
  const root = parsed.node;
  if (root.kind !== "object") {
    return {
      entries: [],
      diagnostics: [errorDiag(`${prefix}json: cannot unmarshal ${jsonKind(root)} into Go value of type map[string]string`, src.range(root.start, root.end))],
    };
  }
  const diags: Diagnostic[] = [];
  const entries: VarFileEntry[] = [];
  const dups = reportedDuplicates(root);
  for (const dup of dups.shown) {
    diags.push({ severity: "warning", summary: `duplicate variable '${dup.key.value}' in ${src.filename}: the last value wins`, range: src.range(dup.key.start, dup.key.end) });
  }
  if (dups.more > 0) diags.push({ severity: "warning", summary: `${dups.more} more duplicate variables in ${src.filename}` });
  for (const [name, m] of root.members) {
    if (m.value.kind === "null") {
      // Go decodes null into a map[string]string element as the zero string, so Packer sets the
      // variable to "" (overriding a default, and satisfying a required variable).
      entries.push({ name, value: { kind: "string", value: "", escaped: false, start: m.value.start, end: m.value.end }, src });
      continue;
    }
    if (m.value.kind !== "string") {
      diags.push(errorDiag(`${prefix}json: cannot unmarshal ${jsonKind(m.value)} into Go value of type string`, src.range(m.value.start, m.value.end)));
      continue;
    }
    entries.push({ name, value: m.value, src });
  }
  return { entries, diagnostics: diags };
}

/** encoding/json names the JSON kind in an UnmarshalTypeError ("number", not mapstructure's "float64"). */
function jsonKind(node: JsonNode): string {
  return node.kind;
}
