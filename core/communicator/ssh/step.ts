// The connect step builders put in their step list (Packer's StepConnect for SSH): connects,
// publishes the `build.*` connection values, and on cleanup clears the temporary key (when
// ssh_clear_authorized_keys is set) and closes the connection.
import type { BuildState, Step } from "../../builders/types.ts";
import { stepConnect } from "../../builders/common/machine-steps.ts";
import { clearAuthorizedKeys } from "./clear-keys.ts";
import type { SshCommunicator } from "./communicator.ts";
import { connectSsh, preloadSshRuntime } from "./lazy-runtime.ts";
import type { SshConfig } from "./config.ts";
import { sshGeneratedValues, type TemporaryKeyPair } from "./keys.ts";

export interface ConnectSshStepOptions {
  /** The config, read when the step runs (a builder fills in host/port/key in earlier steps). */
  config: (state: BuildState) => SshConfig;
  /** The temporary key pair the builder installed, if any. */
  keyPair?: (state: BuildState) => TemporaryKeyPair | undefined;
}

export function stepConnectSsh(opts: ConnectSshStepOptions): Step {
  preloadSshRuntime();
  let keyPair: TemporaryKeyPair | undefined;
  return stepConnect<SshCommunicator>({
    async connect(state) {
      const config = opts.config(state);
      keyPair = opts.keyPair?.(state);
      for (const [k, v] of Object.entries(sshGeneratedValues(config, keyPair))) state.setGenerated(k, v);
      return connectSsh(config, state.ui, state.signal);
    },
    async beforeClose(comm, state) {
      const publicKey = keyPair?.publicKey ?? comm.config.temporaryPublicKey;
      if (comm.config.clearAuthorizedKeys && publicKey) {
        // Cleanup runs after a cancellation too: use a fresh, bounded signal.
        await clearAuthorizedKeys(comm, publicKey, state.ui, AbortSignal.timeout(60_000)).catch((err: unknown) =>
          state.ui.error(`Could not clean up authorized_keys: ${(err as Error).message}`),
        );
      }
    },
  });
}
