// Lazily loaded code of our own (a compressed asset, core/embedded/compressed-assets.ts) must use the
// same module instances as the rest of the binary: one CommunicatorError class (instanceof), one
// cleanup registry, one terminal. So its bundle does not copy the modules it imports from outside its
// own files: scripts/compressed-assets.ts turns each such import into a read of this registry, keyed
// by the module's path in the repository, which the loader fills from the binary's own modules
// before importing the asset. The build fails when an import is missing from the list handed here.

/** Symbol.for key of the global registry of modules shared with lazily loaded code. */
export const SHARED_MODULES_KEY = "imgb.shared-modules";

export type SharedModules = Readonly<Record<string, object>>;

/** Makes `modules` (repository path → module namespace) available to lazily loaded code. */
export function provideSharedModules(modules: SharedModules): void {
  const global = globalThis as Record<symbol, Record<string, object> | undefined>;
  const key = Symbol.for(SHARED_MODULES_KEY);
  global[key] = { ...global[key], ...modules };
}
