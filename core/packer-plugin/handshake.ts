// What a Packer plugin and its host agree on before any RPC (go-plugin's HandshakeConfig as Packer
// sets it): the magic cookie in the environment, which a plugin checks before it serves, and the
// hook names of the provisioning callbacks. Shared by discovery (describe) and the run-time code.
export const MAGIC_COOKIE_KEY = "PACKER_PLUGIN_MAGIC_COOKIE";
export const MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/** Packer's hook names (packer-plugin-sdk/packer.HookProvision, HookCleanupProvision). */
export const HOOK_PROVISION = "packer_provision";
export const HOOK_CLEANUP_PROVISION = "packer_cleanup_provision";
