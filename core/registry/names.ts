// Plugin names become cache keys, lock keys, URL parts and file names, so their charset is strict:
// `namespace/name`, each part lowercase letters, digits and single inner hyphens, 1–64 chars.
// Nothing that could be `..`, a slash inside a part, a backslash, a percent escape or a dot.
import { RegistryError } from "./errors.ts";

const PART = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,63}$/;

export function isValidPluginName(name: string): boolean {
  const parts = name.split("/");
  return parts.length === 2 && parts.every((p) => PART.test(p));
}

export function assertPluginName(name: string, registry?: string): void {
  if (!isValidPluginName(name)) {
    throw new RegistryError(
      "bad-name",
      `invalid plugin name ${JSON.stringify(name)}: expected "namespace/name" of lowercase letters, digits and hyphens`,
      registry !== undefined ? { registry } : {},
    );
  }
}

export function pluginNamespace(name: string): string {
  return name.slice(0, name.indexOf("/"));
}
