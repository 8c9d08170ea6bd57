// The validate stage (packer-plugin-sdk Template.Validate and packer Core.Validate): at least one
// builder, only/except/override naming builders that exist, min_packer_version, required variables.
import { errorDiag, type Diagnostic } from "../../errors/diagnostic.ts";
import type { JsonNode } from "./positioned-json.ts";
import type { OnlyExcept, RawTemplate } from "./raw-template.ts";
import type { SourceFile } from "../../source/source-file.ts";

/** Packer's OnlyExcept.Skip: is the component skipped for the build with this (raw) name? */
export function skipFor(oe: OnlyExcept, buildName: string): boolean {
  if (oe.only.length > 0) return !oe.only.includes(buildName);
  if (oe.except.length > 0) return oe.except.includes(buildName);
  return false;
}

export function validateRawTemplate(src: SourceFile, raw: RawTemplate, packerVersion: string): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const at = (node: JsonNode) => src.range(node.start, node.end);
  const names = new Set(raw.builders.map((b) => b.name));

  // Builders that failed to decode were already reported: only an empty list is this error.
  const buildersNode = raw.root.members.get("builders")?.value;
  const declared = buildersNode?.kind === "array" ? buildersNode.items.length : 0;
  if (declared === 0) {
    const node = buildersNode ?? raw.root;
    diags.push(errorDiag("at least one builder must be defined", at(node)));
  }

  const checkOnlyExcept = (oe: OnlyExcept, prefix: string, fallback: JsonNode) => {
    if (oe.only.length > 0 && oe.except.length > 0) {
      diags.push(errorDiag(`${prefix}only one of 'only' or 'except' may be specified`, at(oe.exceptNode ?? fallback)));
      return;
    }
    for (const [kind, list, node] of [
      ["only", oe.only, oe.onlyNode],
      ["except", oe.except, oe.exceptNode],
    ] as const) {
      list.forEach((n, i) => {
        if (names.has(n)) return;
        const item = node?.kind === "array" ? node.items[i] : node;
        diags.push(errorDiag(`${prefix}'${kind}' specified builder '${n}' not found`, at(item ?? fallback)));
      });
    }
  };

  for (const p of raw.provisioners) {
    checkOnlyExcept(p, `provisioner ${p.index}: `, p.node);
    for (const [name, m] of p.override) {
      if (!names.has(name)) diags.push(errorDiag(`provisioner ${p.index}: override '${name}' doesn't exist`, at(m.key)));
    }
  }
  for (const chain of raw.postProcessors) {
    for (const pp of chain) checkOnlyExcept(pp, `post-processor ${pp.chain}.${pp.index}: `, pp.node);
  }

  if (raw.minVersion !== undefined && raw.minVersion !== "") {
    const node = raw.minVersionNode ?? raw.root;
    const min = parseVersion(raw.minVersion);
    const actual = parseVersion(packerVersion);
    if (!min) diags.push(errorDiag(`min_version is invalid: Malformed version: ${raw.minVersion}`, at(node)));
    else if (actual && compareVersions(actual, min) < 0) {
      diags.push(
        errorDiag(
          `This template requires Packer version ${formatVersion(min)} or higher; using ${formatVersion(actual)}`,
          at(node),
        ),
      );
    }
  }
  return diags;
}

export function requiredVariableDiagnostics(src: SourceFile, raw: RawTemplate, provided: ReadonlySet<string>): Diagnostic[] {
  return raw.variables
    .filter((v) => v.required && !provided.has(v.name))
    .map((v) => errorDiag(`required variable not set: ${v.name}`, src.range(v.key.start, v.value.end)));
}

interface Version {
  segments: number[];
  pre: string;
}

/** hashicorp/go-version's lenient syntax: v?1.2.3, any number of segments, -prerelease, +metadata. */
export function parseVersion(s: string): Version | undefined {
  const m = /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(s.trim());
  if (!m) return undefined;
  const segments = (m[1] as string).split(".").map(Number);
  while (segments.length < 3) segments.push(0);
  return { segments, pre: m[2] ?? "" };
}

export function compareVersions(a: Version, b: Version): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = (a.segments[i] ?? 0) - (b.segments[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === "") return 1;
  if (b.pre === "") return -1;
  return a.pre < b.pre ? -1 : 1;
}

function formatVersion(v: Version): string {
  return v.segments.join(".") + (v.pre ? `-${v.pre}` : "");
}
