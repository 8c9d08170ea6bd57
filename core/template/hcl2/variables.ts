// Input variables: `variable "x" {}` and the older `variables { x = ... }` declarations, their values
// from defaults, PKR_VAR_x / IMGB_VAR_x, auto var files, -var-file and -var (later wins, as Packer),
// typed conversion of string inputs, and `validation` rules checked on the final value.
import { readSourceText } from "../source-text.ts";
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { ConversionError, conversionMessage, convert } from "../../hcl/convert.ts";
import { T, typeString } from "../../hcl/types.ts";
import { V, containsUnknown } from "../../hcl/value.ts";
import {
  EvalContext,
  parseHclExpression,
  parseHclFile,
  typeFromExpr,
  type Attribute as HclAttribute,
  type Block as HclBlock,
  type Expression as HclExpr,
  type Type,
  type Value,
} from "./hcl.ts";

export interface ValidationRule {
  condition: HclExpr;
  errorMessage: string;
  range: SourceRange;
}

export interface VariableDecl {
  name: string;
  /** Declared type constraint; undefined = none (string inputs stay strings). */
  type?: Type;
  /** undefined = no default: the variable must be set. */
  default?: Value;
  description?: string;
  sensitive: boolean;
  validations: ValidationRule[];
  range: SourceRange;
  /** The default was given but was invalid (already reported): no "unset" error on top. */
  defaultFailed?: boolean;
}

const VARIABLE_SCHEMA = {
  attributes: [{ name: "description" }, { name: "default" }, { name: "type" }, { name: "sensitive" }, { name: "nullable" }],
  blocks: [{ type: "validation" }],
};
const VALIDATION_SCHEMA = { attributes: [{ name: "condition", required: true }, { name: "error_message", required: true }] };

/** `variable "NAME" { ... }` */
export function declareVariable(block: HclBlock, diags: Diagnostic[], defaultsCtx?: EvalContext): VariableDecl | undefined {
  const name = block.labels[0]!;
  const { content, diagnostics } = block.body.content(VARIABLE_SCHEMA);
  diags.push(...diagnostics);
  const decl: VariableDecl = { name, sensitive: false, validations: [], range: block.defRange };
  const a = content.attributes;
  if (!isIdentifier(name)) {
    diags.push(errorDiag("Invalid variable name", block.labelRanges[0], "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes."));
  }
  if (a.type) {
    const t = typeFromExpr(a.type.expr);
    diags.push(...t.diagnostics);
    if (t.type) decl.type = t.type;
  }
  if (a.description) {
    const v = constantValue(a.description, diags);
    if (v && !v.isNull && v.type.kind === "string") decl.description = v.str;
  }
  if (a.sensitive) {
    const v = constantValue(a.sensitive, diags);
    if (v && !v.isNull) {
      const b = convertOrDiag(v, T.bool, a.sensitive.expr.range, diags, "Invalid sensitive value");
      if (b) decl.sensitive = b.bool;
    }
  }
  if (a.default) {
    const v = constantValue(a.default, diags, defaultsCtx);
    if (v) {
      if (decl.type) {
        const converted = convertOrDiag(v, decl.type, a.default.expr.range, diags, "Invalid default value for variable", `This default value is not compatible with the variable's type constraint`);
        if (converted) decl.default = converted;
        else decl.defaultFailed = true;
      } else {
        // Packer: without a `type`, the default's type is the variable's type (so a -var string
        // for a map variable is read as an HCL expression).
        decl.default = v;
        // An empty `{}` or `[]` default says nothing about the element types, so it does not.
        const empty = (v.type.kind === "object" && Object.keys(v.type.attrs).length === 0) || (v.type.kind === "tuple" && v.type.elems.length === 0);
        if (!v.isNull && !empty) decl.type = v.type;
      }
    } else decl.defaultFailed = true;
  }
  for (const vb of content.blocks) {
    const { content: vc, diagnostics: vd } = vb.body.content(VALIDATION_SCHEMA);
    diags.push(...vd);
    const cond = vc.attributes.condition;
    const msgAttr = vc.attributes.error_message;
    if (!cond || !msgAttr) continue;
    const refs = cond.expr.variables();
    if (!refs.some((t) => t.root === "var" && t.steps[0]?.kind === "attr" && t.steps[0].name === name)) {
      diags.push(errorDiag("Invalid variable validation condition", cond.expr.range, `The condition for variable "${name}" must refer to var.${name} in order to test incoming values.`));
      continue;
    }
    const msg = constantValue(msgAttr, diags);
    if (!msg || msg.isNull || msg.type.kind !== "string") continue;
    if (!/^[A-Z]/.test(msg.str) || !/[.?!]\s*$/.test(msg.str)) {
      diags.push(
        errorDiag("Invalid validation error message", msgAttr.expr.range, "Validation error message must be at least one full English sentence starting with an uppercase letter and ending with a period or question mark."),
      );
      continue;
    }
    decl.validations.push({ condition: cond.expr, errorMessage: msg.str, range: vb.defRange });
  }
  return decl;
}

/** `variables { a = 1 }`: each attribute declares a variable whose type is its default's type. */
export function declareVariablesBlock(block: HclBlock, diags: Diagnostic[]): VariableDecl[] {
  const attrs = block.body.justAttributes();
  diags.push(...attrs.diagnostics);
  const out: VariableDecl[] = [];
  for (const attr of Object.values(attrs.attributes)) {
    const v = constantValue(attr, diags);
    if (!v) continue;
    out.push({ name: attr.name, default: v, type: v.type, sensitive: false, validations: [], range: attr.range });
  }
  return out;
}

export interface VariableInputs {
  env: Record<string, string | undefined>;
  /** Auto var files first, then -var-file files, in order. */
  varFiles: string[];
  vars: Array<[string, string]>;
}

/** Final values for every declared variable, or diagnostics (unset, wrong type, failed validation). */
export function resolveVariableValues(
  decls: Map<string, VariableDecl>,
  inputs: VariableInputs,
  functions: EvalContext,
  diags: Diagnostic[],
  /** inspect: an unset variable is simply unknown. */
  allowUnset = false,
): Record<string, Value> {
  const values = new Map<string, Value>();
  for (const [name, d] of decls) if (d.default) values.set(name, d.default);

  // Environment: undeclared names are other tools' business, so they are skipped silently.
  for (const prefix of ["PKR_VAR_", "IMGB_VAR_"]) {
    for (const [key, raw] of Object.entries(inputs.env)) {
      if (!key.startsWith(prefix) || raw === undefined) continue;
      const name = key.slice(prefix.length);
      const d = decls.get(name);
      if (!d) continue;
      const v = valueFromString(d, raw, `<value for var.${name} from env>`, diags);
      if (v) values.set(name, v);
    }
  }

  for (const file of inputs.varFiles) {
    for (const attr of readVarFile(file, diags)) {
      const d = decls.get(attr.name);
      if (!d) {
        diags.push(undeclaredWarning(attr.name, attr.range));
        continue;
      }
      const v = constantValue(attr, diags);
      if (!v) continue;
      const converted = d.type ? convertOrDiag(v, d.type, attr.expr.range, diags, "Invalid value for variable", `The value for ${attr.name} is not compatible with the variable's type constraint`) : v;
      if (converted) values.set(attr.name, converted);
    }
  }

  for (const [name, raw] of inputs.vars) {
    const d = decls.get(name);
    if (!d) {
      diags.push(
        errorDiag(
          "Undefined -var variable",
          undefined,
          `A ${JSON.stringify(name)} variable was passed in but was not found in known variables. To declare variable ${JSON.stringify(name)}, place this block in one of your .pkr.hcl files, such as variables.pkr.hcl`,
        ),
      );
      continue;
    }
    const v = valueFromString(d, raw, `<value for var.${name} from arguments>`, diags);
    if (v) values.set(name, v);
  }

  const out: Record<string, Value> = {};
  for (const [name, d] of decls) {
    const v = values.get(name);
    if (!v) {
      // Unknown from here on, so expressions using it do not pile more errors on this one.
      out[name] = V.unknown();
      if (d.defaultFailed || allowUnset) continue;
      diags.push(
        errorDiag(`Unset variable ${JSON.stringify(name)}`, d.range, "A used variable must be set or have a default value; see https://packer.io/docs/templates/hcl_templates/syntax for details."),
      );
      continue;
    }
    out[name] = d.sensitive ? v.mark("sensitive") : v;
  }
  return out;
}

/** Runs every validation rule against the final values (only var.<self> is in scope). */
export function checkValidations(decls: Map<string, VariableDecl>, values: Record<string, Value>, functions: EvalContext, diags: Diagnostic[]): void {
  for (const [name, d] of decls) {
    const v = values[name];
    if (!v) continue;
    for (const rule of d.validations) {
      const ctx = functions.child({ var: V.object({ [name]: v }) });
      const r = rule.condition.evaluate(ctx);
      if (r.diagnostics.some((x) => x.severity === "error")) {
        diags.push(...r.diagnostics);
        continue;
      }
      const res = r.value;
      if (!res.isKnown || containsUnknown(res)) continue;
      if (res.isNull || res.type.kind !== "bool") {
        diags.push(errorDiag("Invalid validation result", rule.condition.range, "Invalid validation condition result value: a bool is required."));
        continue;
      }
      if (!res.bool) {
        const at = rule.range;
        diags.push(
          errorDiag(
            "Invalid value for variable",
            rule.condition.range,
            `${rule.errorMessage}\n\nThis was checked by the validation rule at ${at.filename}:${at.start.line},${at.start.column}-${at.end.column}.`,
          ),
        );
      }
    }
  }
}

/** The detail text Packer prints for a var-file value that has no declaration. */
export function undeclaredWarning(name: string, range?: SourceRange): Diagnostic {
  const d: Diagnostic = {
    severity: "warning",
    summary: "Undefined variable",
    detail:
      `The variable ${JSON.stringify(name)} was set but was not declared as an input variable.\n` +
      `To declare variable ${JSON.stringify(name)} place this block in one of your .pkr.hcl files,\n` +
      `such as variables.pkr.hcl\n\nvariable ${JSON.stringify(name)} {\n  type    = string\n  default = null\n}`,
  };
  if (range) d.range = range;
  return d;
}

/**
 * A string from -var or the environment: for string, number or undeclared types it is a literal
 * string (converted to the type); for anything else it is an HCL expression (`["a","b"]`, `{k=1}`).
 */
function valueFromString(d: VariableDecl, raw: string, fakeFilename: string, diags: Diagnostic[]): Value | undefined {
  const literal = !d.type || d.type.kind === "string" || d.type.kind === "number" || d.type.kind === "dynamic";
  let v: Value;
  if (literal) v = V.string(raw);
  else {
    const parsed = parseHclExpression(raw, fakeFilename);
    diags.push(...parsed.diagnostics);
    if (!parsed.expr || parsed.diagnostics.some((x) => x.severity === "error")) return undefined;
    const r = parsed.expr.evaluate(undefined);
    diags.push(...r.diagnostics);
    if (r.diagnostics.some((x) => x.severity === "error")) return undefined;
    v = r.value;
  }
  if (!d.type) return v;
  return convertOrDiag(v, d.type, undefined, diags, "Invalid value for variable", `The value for ${d.name} is not compatible with the variable's type constraint`);
}

function readVarFile(path: string, diags: Diagnostic[]): HclAttribute[] {
  let text: string;
  try {
    const read = readSourceText(path, "strip");
    if (!read.ok) {
      diags.push(read.diagnostic);
      return [];
    }
    text = read.text;
  } catch {
    diags.push(errorDiag("Failed to read file", undefined, `The file ${JSON.stringify(path)} could not be read.`));
    return [];
  }
  const parsed = parseHclFile(path, text);
  diags.push(...parsed.diagnostics);
  if (parsed.diagnostics.some((x) => x.severity === "error")) return [];
  const attrs = parsed.body.justAttributes();
  diags.push(...attrs.diagnostics);
  return Object.values(attrs.attributes);
}

/** Evaluates an attribute that may use no variables (defaults: only env(); var files: no functions). */
export function constantValue(attr: HclAttribute, diags: Diagnostic[], ctx?: EvalContext): Value | undefined {
  const r = attr.expr.evaluate(ctx);
  diags.push(...r.diagnostics);
  if (r.diagnostics.some((x) => x.severity === "error")) return undefined;
  return r.value;
}

export function convertOrDiag(v: Value, t: Type, range: SourceRange | undefined, diags: Diagnostic[], summary: string, detailPrefix?: string): Value | undefined {
  try {
    return convert(v, t);
  } catch (e) {
    if (!(e instanceof ConversionError)) throw e;
    const why = conversionMessage(e);
    diags.push(errorDiag(summary, range, detailPrefix ? `${detailPrefix}: ${why}.` : `${why} (${typeString(t)} required).`));
    return undefined;
  }
}

function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s);
}
