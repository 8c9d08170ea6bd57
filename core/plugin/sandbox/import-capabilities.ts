// Load-time check of capability-gated imports: a module that imports a host function needing a
// capability its `describe` did not declare is refused when it is registered, before any run-phase
// call (the grant itself is still checked on every call).
import { capabilitiesOf } from "../host/table.ts";

/**
 * The first import ("extism:host/user.NAME") that needs a capability the plugin did not declare, as
 * a message, or null. Runs after `describe`, before the plugin is registered.
 */
export function undeclaredImport(imports: readonly string[], declared: readonly string[]): string | null {
  const have = new Set(declared);
  for (const imp of imports) {
    if (!imp.startsWith("extism:host/user.")) continue;
    const fn = imp.slice("extism:host/user.".length);
    const missing = capabilitiesOf(fn).filter((c) => !have.has(c));
    if (missing.length > 0) {
      return `the module imports host function ${fn}, which needs capability ${missing.join(" and ")}, but describe does not declare it`;
    }
  }
  return null;
}
