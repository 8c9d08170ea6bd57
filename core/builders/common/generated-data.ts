// Packer's generated build data (packer-plugin-sdk: packer.BuilderDataCommonKeys): the values a
// build publishes while it runs, read as `build.X` in HCL2 and `{{ build `X` }}` in legacy JSON.
// Every build has all of them (empty when its builder publishes nothing under the name); builders
// add keys of their own through BuilderFactory.generatedKeys. This module imports nothing, so the
// template side (HCL2's `build.*` context) can share the list without depending on the builders.

/** What a connect step publishes: the connection's address and credentials. */
export const CONNECTION_KEYS = ["Host", "Port", "User", "Password", "ConnType", "SSHPublicKey", "SSHPrivateKey"] as const;

/** What the HTTP server step publishes (Packer's StepHTTPServer). */
export const HTTP_SERVER_KEYS = ["PackerHTTPIP", "PackerHTTPPort", "PackerHTTPAddr"] as const;

/** Every build's keys, in Packer's order of meaning: the artifact id, the connection, the run, the HTTP server. */
export const BUILDER_DATA_COMMON_KEYS = ["ID", ...CONNECTION_KEYS, "WinRMPassword", "PackerRunUUID", ...HTTP_SERVER_KEYS] as const;

/** Generated keys that carry credentials (the machine's password, a private key: possibly the user's own). */
export const CREDENTIAL_KEYS: readonly string[] = ["Password", "SSHPrivateKey", "WinRMPassword"];

export type ConnectionKey = (typeof CONNECTION_KEYS)[number];
export type HttpServerKey = (typeof HTTP_SERVER_KEYS)[number];
export type BuilderDataKey = (typeof BUILDER_DATA_COMMON_KEYS)[number];
