// The wording of decode issues, in one place. A decoded config speaks Packer's words for its syntax:
// template/config.Decode's (mapstructure's) for legacy JSON, plugin configs and builders, and HCL's
// (hcldec's) for the structure of an HCL2 body — an unexpected or missing argument — because Packer
// checks an HCL2 body against the component's spec before decoding it.
import { errorDiag, type Diagnostic, type SourceRange } from "../errors/diagnostic.ts";
import { missingRequiredArgument, unsupportedArgument, unsupportedBlockType } from "../hcl/body.ts";
import { nameSuggestion } from "../hcl/context.ts";
import type { JsonValue } from "../values/json.ts";
import type { DecodeIssue, IssuePath } from "./decode.ts";

/** `key`, `key[0]`, `key[name]`: how mapstructure names a nested value. */
export function issueKey(path: IssuePath): string {
  const [first, ...rest] = path;
  return `${String(first ?? "")}${rest.map((p) => `[${String(p)}]`).join("")}`;
}

/** The Go type encoding/json gives a value (mapstructure's messages name it). */
export function goJsonType(v: JsonValue): string {
  if (v === null) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  return typeof v === "number" ? "float64" : typeof v;
}

/** One line for an issue, in Packer's (mapstructure's) words. */
export function issueMessage(issue: DecodeIssue): string {
  const key = issueKey(issue.path);
  switch (issue.kind) {
    case "unknown-key":
      return `unknown configuration key: '${JSON.stringify(key)}'`;
    case "required":
      return `required configuration key '${key}' is not set`;
    case "unconvertible":
      return issue.want === "map"
        ? `'${key}' expected a map, got '${goJsonType(issue.got)}'`
        : `'${key}' expected type '${issue.want}', got unconvertible type '${goJsonType(issue.got)}'`;
    case "unparsable":
      return issue.want === "bool"
        ? `cannot parse '${key}' as bool: strconv.ParseBool: parsing ${JSON.stringify(issue.text)}: invalid syntax`
        : `cannot parse '${key}' as number: ${JSON.stringify(issue.text)} is not a number`;
  }
}

/** "Did you mean ...?" for a mistyped key, as HCL suggests. */
export function suggestion(issue: DecodeIssue): string | undefined {
  if (issue.kind !== "unknown-key") return undefined;
  const s = nameSuggestion(String(issue.path[0]), [...issue.known]);
  return s ? `Did you mean ${JSON.stringify(s)}?` : undefined;
}

/**
 * A diagnostic in Packer's words. `context` (the plugin or builder) prefixes the summary or goes in
 * the detail, as the caller reports elsewhere; `range` is where the caller has a position.
 */
export function issueDiagnostic(issue: DecodeIssue, where: { range?: SourceRange; prefix?: string; detail?: string } = {}): Diagnostic {
  const summary = where.prefix ? `${where.prefix}: ${issueMessage(issue)}` : issueMessage(issue);
  const detail = [where.detail, suggestion(issue)].filter((s) => s !== undefined).join("; ");
  return errorDiag(summary, where.range, detail === "" ? undefined : detail);
}

/** The same issue in HCL's words, for the structure of an HCL2 body (`block`: a nested block's type). */
export function hclIssueDiagnostic(issue: DecodeIssue, range: SourceRange | undefined, block = false): Diagnostic {
  const key = issueKey(issue.path);
  const hint = suggestion(issue);
  switch (issue.kind) {
    case "unknown-key":
      return block ? unsupportedBlockType(key, range, hint ? ` ${hint}` : "") : unsupportedArgument(key, range, hint ? ` ${hint}` : "");
    case "required":
      return missingRequiredArgument(key, range);
    default:
      return errorDiag("Incorrect attribute value type", range, `Inappropriate value for attribute ${JSON.stringify(key)}: ${issueMessage(issue)}.`);
  }
}
