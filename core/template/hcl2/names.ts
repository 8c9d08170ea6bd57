// Names in HCL2 builds: how `sources = [...]` entries refer to source blocks, what a build is called,
// and how provisioner/post-processor `only`/`except` pick builds.

/** A reference to a `source "TYPE" "NAME"` block. */
export interface SourceRef {
  type: string;
  name: string;
}

/**
 * Parses `source.TYPE.NAME`, `sources.TYPE.NAME` or `TYPE.NAME` (Packer accepts all three in a
 * build's `sources` list and as the label of an inline `source` block).
 */
export function parseSourceRef(text: string): SourceRef | undefined {
  const parts = text.split(".");
  if (parts.length === 3 && (parts[0] === "source" || parts[0] === "sources")) parts.shift();
  if (parts.length !== 2) return undefined;
  const [type, name] = parts as [string, string];
  if (!type || !name) return undefined;
  return { type, name };
}

export function sourceKey(ref: SourceRef): string {
  return `${ref.type}.${ref.name}`;
}

/** `TYPE.NAME`, or `BUILD.TYPE.NAME` when the build block has a name (PACKER-BEHAVIOURS "Output format"). */
export function buildNameOf(buildBlockName: string | undefined, type: string, sourceName: string): string {
  return buildBlockName ? `${buildBlockName}.${type}.${sourceName}` : `${type}.${sourceName}`;
}

/** Provisioner / post-processor only/except: names are `TYPE.NAME`, NAME being the (renamed) source name. */
export function onlyExceptAllows(filter: { only: string[]; except: string[] }, type: string, sourceName: string): boolean {
  const key = `${type}.${sourceName}`;
  if (filter.only.length > 0) return filter.only.includes(key);
  return !filter.except.includes(key);
}
