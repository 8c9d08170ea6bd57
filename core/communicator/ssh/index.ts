// The SSH communicator's public surface. Builders: merge `sshConfigFields` into their schema,
// `parseSshConfig` the decoded config, then `connectSsh` (or put `stepConnectSsh` in their steps).
export { sshConfigFields, parseSshConfig, type SshConfig, type SshBastionConfig, type FileTransferMethod } from "./config.ts";
export { connectSsh, preloadSshRuntime } from "./lazy-runtime.ts";
export type { SshCommunicator } from "./communicator.ts";
export { generateTemporaryKeyPair, sshGeneratedValues, type TemporaryKeyPair } from "./keys.ts";
export { clearAuthorizedKeys, clearKeyCommand } from "./clear-keys.ts";
export { stepConnectSsh, type ConnectSshStepOptions } from "./step.ts";
export { formatDuration } from "./duration.ts";
export { fingerprint as hostKeyFingerprint } from "./hostkey.ts";
