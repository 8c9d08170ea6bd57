// Every builder type imgb knows, by the name templates use.
import type { BuilderFactory } from "./types.ts";
import { nullBuilder } from "./null/index.ts";
import { fileBuilder } from "./file/index.ts";

const BUILDERS = new Map<string, BuilderFactory>([nullBuilder, fileBuilder].map((b) => [b.type, b]));

export function builderFactory(type: string): BuilderFactory | undefined {
  return BUILDERS.get(type);
}

export function builderTypes(): string[] {
  return [...BUILDERS.keys()].sort();
}
