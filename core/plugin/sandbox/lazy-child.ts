// The sandbox child's code for `imgb __plugin-sandbox` (cmd/main.ts): only that process runs it, so
// the compiled binary carries it as a compressed asset instead of precompiled code every start pays
// for; from the sources it is a plain import.
import { ASSET, lazyModule } from "../../embedded/compressed-assets.ts";
import { provideSharedModules } from "../../embedded/shared-modules.ts";
import { SANDBOX_CHILD_SHARED } from "./child-shared.ts";

const load = lazyModule<typeof import("./child.ts")>(ASSET.sandboxChild, `${import.meta.dir}/child.ts`);

export async function loadSandboxChild(): Promise<typeof import("./child.ts")> {
  provideSharedModules(SANDBOX_CHILD_SHARED);
  return await load();
}
