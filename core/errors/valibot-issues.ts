// The one formatter of valibot issues: every boundary that validates input with valibot (plugin
// answers, manifests, registry documents, config files, host-call requests) says what is wrong and
// where in the same words: `at signed.plugins.0.version: Invalid type: ...`.
import * as v from "valibot";

/** `a.b.0`: where in the input an issue is; undefined at the top. */
export function issuePath(issue: v.BaseIssue<unknown>): string | undefined {
  const path = issue.path?.map((p) => String(p.key)).join(".");
  return path ? path : undefined;
}

/** One issue: `at PATH: MESSAGE` (or the message alone at the top). */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = issuePath(issue);
  return path ? `at ${path}: ${issue.message}` : issue.message;
}

/** The first `limit` issues, one after another. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], limit = 5): string {
  if (issues.length === 0) return "invalid";
  return issues.slice(0, limit).map(describeIssue).join("; ");
}
