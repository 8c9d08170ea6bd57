// User variables of a legacy JSON template: defaults, -var-file and -var values, each rendered with
// `{{env}}` allowed and `{{user}}` of other variables in any order (Packer resolves them by retrying
// up to 100 rounds; resolving on demand gives the same values and finds cycles). `{{ .Field }}`
// actions are left as they are, for the component that owns them (Packer's RenderRegex filter).
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { FuncError, TemplateError } from "../gotemplate/errors.ts";
import { renderString } from "../gotemplate/render.ts";
import type { TemplateContext } from "../gotemplate/packer-funcs.ts";
import { stringValueOffset, type JsonStringNode } from "./positioned-json.ts";
import type { SourceFile } from "../../source/source-file.ts";

/** One candidate value of a variable and where it came from. */
export interface VariableInput {
  value: string;
  /** Set when the value is a string in a file (template default or -var-file). */
  src?: SourceFile;
  node?: JsonStringNode;
  /** Shown when there is no file position, e.g. "-var foo". */
  origin: string;
}

export interface ResolveOptions {
  env: Readonly<Record<string, string | undefined>>;
  templatePath: string;
  now?: Date;
  packerVersion?: string;
}

const TEMPLATE_VARIABLE = /\{\{(\s|)\.(.*?)(\s|)\}\}/g;
const NOT_SET = "Error: variable not set:";
/** isDoneInterpolating's test in Packer's core.go. */
const USER_REFERENCE = /\{\{\s*user\s*`.*`\s*\}\}/;

class DependencyFailed extends Error {}

/** Renders a variable's text, keeping `{{ .Field }}` actions untouched. Throws TemplateError. */
export function renderVariableText(text: string, ctx: TemplateContext): string {
  const matches = [...text.matchAll(TEMPLATE_VARIABLE)];
  if (matches.length === 0) return renderString(text, undefined, ctx);
  // Mask each `{{ .X }}` with a same-length token so error offsets stay right, then restore it.
  const tokens: Array<[string, string]> = [];
  let masked = "";
  let last = 0;
  matches.forEach((m, i) => {
    const original = m[0];
    const token = `\uE000${i.toString(36).padStart(original.length - 2, "0")}\uE001`;
    tokens.push([token, original]);
    masked += text.slice(last, m.index) + token;
    last = (m.index ?? 0) + original.length;
  });
  masked += text.slice(last);
  let out = renderString(masked, undefined, ctx);
  for (const [token, original] of tokens) out = out.replaceAll(token, original);
  return out;
}

export function resolveVariables(
  inputs: ReadonlyMap<string, VariableInput>,
  opts: ResolveOptions,
): { values: Record<string, string>; diagnostics: Diagnostic[] } {
  const values: Record<string, string> = {};
  const state = new Map<string, "active" | "failed">();
  const diags: Diagnostic[] = [];
  const notSet: Diagnostic[] = [];

  const ctx: TemplateContext = {
    enableEnv: true,
    env: opts.env,
    templatePath: opts.templatePath,
    lookupUser: (name) => resolve(name),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.packerVersion ? { packerVersion: opts.packerVersion } : {}),
  };

  function rangeOf(input: VariableInput, offset: number, length: number): SourceRange | undefined {
    if (!input.src || !input.node) return undefined;
    const start = stringValueOffset(input.src.text, input.node, offset);
    const end = stringValueOffset(input.src.text, input.node, offset + length);
    return input.src.range(start, end);
  }

  function resolve(name: string): string | undefined {
    if (Object.hasOwn(values, name)) return values[name];
    const input = inputs.get(name);
    if (!input) return undefined;
    const st = state.get(name);
    if (st === "failed") throw new DependencyFailed();
    if (st === "active") {
      state.set(name, "failed");
      // Thrown as a function error, so it points at the `user` call that closes the cycle.
      throw new FuncError(`variable "${name}" refers to itself through other variables`);
    }
    state.set(name, "active");
    try {
      const v = renderVariableText(input.value, ctx);
      values[name] = v;
      state.delete(name);
      return v;
    } catch (e) {
      state.set(name, "failed");
      if (e instanceof TemplateError) {
        const where = input.src ? undefined : ` (${input.origin})`;
        const summary = `Failed to interpolate "${name}"${where ?? ""}: ${e.message}`;
        const detail = e.message.includes(NOT_SET)
          ? "Please make sure that the variable you're referencing has been defined; Packer treats all variables used to interpolate other user variables as required."
          : undefined;
        (e.message.includes(NOT_SET) ? notSet : diags).push(errorDiag(summary, rangeOf(input, e.offset, e.length), detail));
        throw new DependencyFailed();
      }
      throw e;
    }
  }

  for (const name of [...inputs.keys()].sort()) {
    try {
      resolve(name);
    } catch (e) {
      if (!(e instanceof DependencyFailed)) throw e;
    }
  }
  // Packer's renderVarsRecursively re-renders every variable that refers to `{{user}}` each round
  // and fails only when a round changes nothing, so once any such variable resolves, variables
  // referring to undefined ones are tolerated: they stay unset and render as "" elsewhere.
  const tolerated = notSet.length > 0 && Object.keys(values).some((name) => USER_REFERENCE.test(inputs.get(name)?.value ?? ""));
  for (const d of notSet) diags.push(tolerated ? { ...d, severity: "warning", detail: "Packer leaves such a variable unset and renders it as an empty string; so does imgb." } : d);
  return { values, diagnostics: diags };
}
