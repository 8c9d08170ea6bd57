// Every builder type imgb knows, by the name templates use.
import type { BuilderFactory } from "./types.ts";
import { nullBuilder } from "./null/index.ts";
import { fileBuilder } from "./file/index.ts";
import { dockerBuilderFactory } from "./docker/index.ts";
import { rootfsBuilderFactory } from "./rootfs/index.ts";
import { qemuBuilderFactory } from "./qemu/index.ts";
import { packerPluginBuilderFactory } from "./packer-plugin/index.ts";

const BUILDERS = new Map<string, BuilderFactory>(
  [nullBuilder, fileBuilder, dockerBuilderFactory, rootfsBuilderFactory, qemuBuilderFactory].map((b) => [b.type, b]),
);

export function builderFactory(type: string): BuilderFactory | undefined {
  return BUILDERS.get(type);
}

/**
 * imgb's own builder of that type, else the Packer plugin installed for it (discovered as Packer
 * does), else undefined.
 */
export async function resolveBuilderFactory(type: string): Promise<BuilderFactory | undefined> {
  return BUILDERS.get(type) ?? (await packerPluginBuilderFactory(type));
}

export function builderTypes(): string[] {
  return [...BUILDERS.keys()].sort();
}
