// connectSsh for the rest of imgb: loads the SSH runtime (runtime.ts) on the first connection. From
// the sources it is a plain import; the compiled binary carries it as a compressed asset.
import { ASSET, lazyModule } from "../../embedded/compressed-assets.ts";
import { provideSharedModules } from "../../embedded/shared-modules.ts";
import type { Ui } from "../../ui/types.ts";
import type { SshCommunicator } from "./communicator.ts";
import type { SshConfig } from "./config.ts";
import { SSH_RUNTIME_SHARED } from "./runtime-shared.ts";

type Runtime = typeof import("./runtime.ts");

const runtime = lazyModule<Runtime>(ASSET.sshRuntime, `${import.meta.dir}/runtime.ts`);

/**
 * Starts loading the runtime in the background (a build calls it when it assembles its steps, so that
 * the ~30 ms of parsing overlap the machine's start instead of delaying the first connection).
 */
export function preloadSshRuntime(): void {
  provideSharedModules(SSH_RUNTIME_SHARED);
  runtime.load().catch(() => {}); // a failure is reported by the connection that awaits it
}

export async function connectSsh(config: SshConfig, ui: Ui, signal: AbortSignal): Promise<SshCommunicator> {
  provideSharedModules(SSH_RUNTIME_SHARED);
  return (await runtime.load()).connectSsh(config, ui, signal);
}
