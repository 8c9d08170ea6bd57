// The public face of the interpolation engine: parse (cached), execute, and report errors as
// Diagnostics. `renderTemplate` works with dot data alone, which is what a plugin has when it renders
// its own late keys (`execute_command` with {{.Path}} and {{.Vars}}).
import { DiagnosticsError, errorDiag, type SourceRange } from "../../errors/diagnostic.ts";
import { SourceFile } from "../../source/source-file.ts";
import type { JsonValue } from "../../values/json.ts";
import { TemplateError } from "./errors.ts";
import { execute, type FuncMap, type TemplateFunc } from "./exec.ts";
import { parseTemplate, type ArgNode, type ParsedTemplate, type TemplateNode } from "./parser.ts";
import { BUILTINS } from "./builtins.ts";
import { PACKER_FUNCTION_NAMES, packerFunctions, type TemplateContext } from "./packer-funcs.ts";

/** Dot data of a template: `{{.Path}}`, `{{.Vars}}`, `{{.HTTPIP}}`. */
export type TemplateData = Readonly<Record<string, JsonValue>>;

const FUNCTION_NAMES = new Set<string>([...BUILTINS.keys(), ...PACKER_FUNCTION_NAMES, "and", "or"]);
const PARSE_OPTIONS = { hasFunction: (name: string) => FUNCTION_NAMES.has(name) };

// Templates repeat (the same provisioner config decoded for every build): parse each text once.
const parseCache = new Map<string, ParsedTemplate>();
const PARSE_CACHE_LIMIT = 4096;

/** Parses (or fetches from cache) a template; throws TemplateError. */
export function parseCached(text: string): ParsedTemplate {
  const hit = parseCache.get(text);
  if (hit) return hit;
  const parsed = parseTemplate(text, PARSE_OPTIONS);
  if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
  parseCache.set(text, parsed);
  return parsed;
}

/** True when the text has no action, so rendering is the identity (the common case). */
export function isPlainText(text: string): boolean {
  return !text.includes("{{");
}

const funcCache = new WeakMap<TemplateContext, FuncMap>();
const EMPTY_CONTEXT: TemplateContext = {};

function functionsFor(ctx: TemplateContext): FuncMap {
  let fns = funcCache.get(ctx);
  if (!fns) {
    const merged = new Map<string, TemplateFunc>(BUILTINS);
    for (const [k, v] of packerFunctions(ctx)) merged.set(k, v);
    fns = merged;
    funcCache.set(ctx, fns);
  }
  return fns;
}

/** Renders one string; throws TemplateError with the offset inside `text`. */
export function renderString(text: string, data: TemplateData | undefined, ctx: TemplateContext = EMPTY_CONTEXT): string {
  if (isPlainText(text)) return text;
  return execute(parseCached(text), data, functionsFor(ctx));
}

/** Checks syntax (and that every function exists) without executing; undefined when fine. */
export function checkTemplate(text: string): TemplateError | undefined {
  if (isPlainText(text)) return undefined;
  try {
    parseCached(text);
    return undefined;
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
}

/** Where an offset inside the template text is in some file; the default is the text itself. */
export type OffsetLocator = (offset: number, length: number) => SourceRange;

export function textLocator(text: string, filename = "<template>"): OffsetLocator {
  const file = new SourceFile(filename, text);
  return (offset, length) => file.range(offset, Math.min(text.length, offset + length));
}

/** TemplateError → a Diagnostic naming the problem, positioned by `locate`. */
export function templateErrorDiagnostic(err: TemplateError, text: string, locate: OffsetLocator, where?: string) {
  const detail = where ? `in ${where}: ${JSON.stringify(text)}` : `in ${JSON.stringify(text)}`;
  return errorDiag(`template: ${err.message}`, locate(err.offset, err.length), detail);
}

/**
 * Renders a Packer/Go template with dot data and an optional Packer context (user variables, build
 * name, ...). Throws a DiagnosticsError positioned inside `text` (or by `locate`) on a bad template.
 */
export function renderTemplate(text: string, data: TemplateData, context?: TemplateContext, locate?: OffsetLocator): string {
  try {
    return renderString(text, data, context);
  } catch (e) {
    if (e instanceof TemplateError) throw new DiagnosticsError([templateErrorDiagnostic(e, text, locate ?? textLocator(text))]);
    throw e;
  }
}

/** Names passed to `{{user `x`}}` anywhere in the text (constant arguments only); none when it does not parse. */
export function referencedUserVariables(text: string): string[] {
  if (isPlainText(text)) return [];
  let parsed: ParsedTemplate;
  try {
    parsed = parseCached(text);
  } catch {
    return [];
  }
  const names: string[] = [];
  const visitArgs = (args: ArgNode[]) => {
    args.forEach((a, i) => {
      if (a.kind === "identifier" && a.name === "user") {
        const next = args[i + 1];
        if (next?.kind === "string") names.push(next.value);
      }
      if (a.kind === "pipe") a.pipe.cmds.forEach((c) => visitArgs(c.args));
      if (a.kind === "chain" && a.node.kind === "pipe") a.node.pipe.cmds.forEach((c) => visitArgs(c.args));
    });
  };
  const visit = (nodes: TemplateNode[]) => {
    for (const n of nodes) {
      if (n.kind === "action") n.pipe.cmds.forEach((c) => visitArgs(c.args));
      else if (n.kind === "if" || n.kind === "with" || n.kind === "range") {
        n.pipe.cmds.forEach((c) => visitArgs(c.args));
        visit(n.list);
        if (n.elseList) visit(n.elseList);
      }
    }
  };
  visit(parsed.nodes);
  return names;
}

export type { TemplateContext };
