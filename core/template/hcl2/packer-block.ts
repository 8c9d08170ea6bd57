// The `packer {}` block: `required_version` (checked against the Packer version imgb follows) and
// `required_plugins { NAME = { source = "HOST/NAMESPACE/TYPE", version = "..." } }`.
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { parseConstraint, satisfies, type Constraint } from "../../registry/constraints.ts";
import { compareSemVer, parseSemVer, type SemVer } from "../../registry/semver.ts";
import type { RequiredPlugin } from "../model.ts";
import { rawContent, type Block } from "./hcl.ts";

export interface PackerBlockResult {
  requiredVersions: Array<{ text: string; range: SourceRange }>;
  requiredPlugins: RequiredPlugin[];
}

export function decodePackerBlock(block: Block, diags: Diagnostic[], into: PackerBlockResult): void {
  const { content, diagnostics } = block.body.content({
    attributes: [{ name: "required_version" }],
    blocks: [{ type: "required_plugins" }],
  });
  diags.push(...diagnostics);
  const rv = content.attributes.required_version;
  if (rv) {
    const r = rv.expr.evaluate(undefined);
    diags.push(...r.diagnostics);
    if (r.value.isKnown && !r.value.isNull && r.value.type.kind === "string") into.requiredVersions.push({ text: r.value.str, range: rv.expr.range });
    else if (r.diagnostics.length === 0) diags.push(errorDiag("Invalid required_version", rv.expr.range, "A version constraint string is required."));
  }
  for (const rp of content.blocks) decodeRequiredPlugins(rp, diags, into.requiredPlugins);
}

function decodeRequiredPlugins(block: Block, diags: Diagnostic[], out: RequiredPlugin[]): void {
  const { attributes, blocks } = rawContent(block.body);
  for (const b of blocks) diags.push(errorDiag("Unsupported block type", b.typeRange, `Blocks of type ${JSON.stringify(b.type)} are not expected here.`));
  const seen = new Map<string, SourceRange>();
  for (const a of attributes) {
    const prior = seen.get(a.name);
    if (prior) {
      diags.push(errorDiag("Duplicate required_plugin accessor", a.nameRange, `The plugin ${JSON.stringify(a.name)} was already required at line ${prior.start.line}.`));
      continue;
    }
    seen.set(a.name, a.range);
    const r = a.expr.evaluate(undefined);
    diags.push(...r.diagnostics);
    if (r.diagnostics.some((d) => d.severity === "error")) continue;
    const v = r.value;
    if (v.isNull || !v.isKnown || (v.type.kind !== "object" && v.type.kind !== "map")) {
      diags.push(
        errorDiag(
          "Invalid required_plugins entry",
          a.expr.range,
          `The ${JSON.stringify(a.name)} entry must be an object with "source" and "version", e.g. { source = "github.com/hashicorp/${a.name}", version = ">= 1.0.0" }.`,
        ),
      );
      continue;
    }
    const source = v.attrs.get("source");
    const version = v.attrs.get("version");
    for (const k of v.attrs.keys()) {
      if (k !== "source" && k !== "version") diags.push(errorDiag("Invalid required_plugins entry", a.expr.range, `Unexpected key ${JSON.stringify(k)}; only "source" and "version" are allowed.`));
    }
    if (!source || source.isNull || source.type.kind !== "string") {
      diags.push(errorDiag("Invalid required_plugins entry", a.expr.range, `The ${JSON.stringify(a.name)} entry needs a "source" string.`));
      continue;
    }
    const parts = source.str.split("/");
    if (parts.length !== 3 || parts.some((p) => p === "") || !parts[0]!.includes(".")) {
      diags.push(
        errorDiag(
          "Invalid plugin source",
          a.expr.range,
          `The source ${JSON.stringify(source.str)} must be of the form HOSTNAME/NAMESPACE/TYPE, e.g. "github.com/hashicorp/${parts[parts.length - 1] || a.name}".`,
        ),
      );
      continue;
    }
    let constraint = "";
    if (version && !version.isNull) {
      if (version.type.kind !== "string") {
        diags.push(errorDiag("Invalid required_plugins entry", a.expr.range, `The "version" of ${JSON.stringify(a.name)} must be a string.`));
        continue;
      }
      const c = parseConstraint(version.str);
      if ("error" in c) {
        diags.push(errorDiag("Invalid version constraint", a.expr.range, c.error));
        continue;
      }
      constraint = version.str;
    }
    out.push({ localName: a.name, source: source.str, versionConstraint: constraint, range: a.range });
  }
}

/** Checks every `required_version` against the version imgb follows; the first failure stops loading. */
/**
 * A version newer than `have` that the constraint allows, when only newer versions meet it (a
 * template written for Packer 1.10+). Such a template is accepted with a warning: imgb checks every
 * block and argument anyway, so what it does not understand is still an error.
 */
function newerVersionAsked(c: Constraint, have: SemVer): SemVer | undefined {
  const candidates = c.terms.flatMap((t) => [t.version, { ...t.version, patch: t.version.patch + 1, text: "" }, { ...t.version, minor: t.version.minor + 1, patch: 0, text: "" }]);
  return candidates.find((v) => compareSemVer(v, have) > 0 && v.prerelease.length === 0 && satisfies(c, v));
}

/** The warning for a template asking for a newer Packer than the one whose behaviour imgb implements. */
export function newerPackerWarning(what: string, packerVersion: string, range?: SourceRange): Diagnostic {
  return {
    severity: "warning",
    summary: "Template asks for a newer Packer",
    ...(range ? { range } : {}),
    detail: `${what} is not met by Packer ${packerVersion}, the version whose behaviour imgb implements. imgb goes on: every block and argument is still checked, so anything it does not understand is reported as an error.`,
  };
}

export function checkRequiredVersions(required: PackerBlockResult["requiredVersions"], packerVersion: string): Diagnostic[] {
  const have = parseSemVer(packerVersion);
  const diags: Diagnostic[] = [];
  for (const r of required) {
    const c = parseConstraint(r.text);
    if ("error" in c) {
      diags.push(errorDiag("Invalid required_version", r.range, c.error));
      continue;
    }
    if (have && !satisfies(c, have)) {
      const newer = newerVersionAsked(c, have);
      if (newer) {
        diags.push(newerPackerWarning(`required_version ${JSON.stringify(r.text)}`, packerVersion, r.range));
        continue;
      }
      diags.push(
        errorDiag(
          "Unsupported Packer Core version",
          r.range,
          `This configuration does not support Packer version ${packerVersion}. To proceed, either choose another supported Packer version or update the root module's version constraint. Version constraints are normally set for good reason, so updating the constraint may lead to other errors or unexpected behavior.`,
        ),
      );
    }
  }
  return diags;
}
