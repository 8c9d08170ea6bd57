// Extracts `> expression` / result pairs from Packer's function docs (shell-session blocks).
import { CORPUS } from "./corpus.ts";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export const FUNCTION_DOCS = `${CORPUS}/packer-docs/website/content/docs/templates/hcl_templates/functions`;

export interface DocExample {
  file: string;
  expr: string;
  expected: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".mdx") ? [p] : [];
  });
}

export function docExamples(): DocExample[] {
  const out: DocExample[] = [];
  for (const file of walk(FUNCTION_DOCS).sort()) {
    const text = readFileSync(file, "utf8");
    for (const block of text.matchAll(/```shell-session\n([\s\S]*?)```/g)) {
      const lines = block[1]!.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!;
        if (!l.startsWith("> ")) continue;
        const res: string[] = [];
        let j = i + 1;
        while (j < lines.length && !lines[j]!.startsWith("> ")) res.push(lines[j++]!);
        while (res.length && res[res.length - 1]!.trim() === "") res.pop();
        out.push({ file: file.slice(FUNCTION_DOCS.length + 1), expr: l.slice(2), expected: res.join("\n") });
      }
    }
  }
  return out;
}
