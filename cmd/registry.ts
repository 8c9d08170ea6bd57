// `imgb registry add|list|remove`: the registries plugins are installed from; `imgb registry
// keygen|init|trust-publisher|sign|publish|push|yank|timestamp|rotate-root|serve`: tools for running a
// plugin registry (static files, or pushed to an OCI registry). Each verb parses flags and calls one function in core/registry/commands.ts.
import { defineCommand } from "citty";
import {
  keygenCommand,
  registryAddCommand,
  registryAliasCommand,
  registryListCommand,
  registryPushCommand,
  registryVetCommand,
  registryRemoveCommand,
  registryInitCommand,
  registryPublishCommand,
  registryRotateRootCommand,
  registryServeCommand,
  registrySignCommand,
  registryTimestampCommand,
  registryYankCommand,
  trustPublisherCommand,
} from "../core/registry/commands.ts";
import { UserError } from "../core/errors/diagnostic.ts";
import { flagsOf, type ParsedFlags } from "./resolve.ts";

const dirArg = { type: "positional", required: true, description: "registry folder" } as const;
const signerArgs = {
  "index-key": { type: "string", description: "index role private key (repeatable)" },
  "timestamp-key": { type: "string", description: "timestamp role private key (repeatable)" },
} as const;
const limitArgs = {
  memory: { type: "string", description: "memory limit in MiB (default 64)" },
  cpu: { type: "string", description: "CPU time limit per call in ms (default 10000)" },
} as const;

function int(name: string, v: unknown): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`--${name}=${String(v)}: expected a whole number`);
  return n;
}
const signerKeys = (flags: ParsedFlags) => ({ indexKeys: flags.all("index-key"), timestampKeys: flags.all("timestamp-key") });

const keygen = defineCommand({
  meta: { name: "keygen", description: "Writes a new Ed25519 key pair: OUT.key (private) and OUT.pub" },
  args: { out: { type: "positional", required: true, description: "path prefix" } },
  run: ({ args }) => keygenCommand({ out: String(args.out) }),
});

const init = defineCommand({
  meta: { name: "init", description: "Creates a registry folder with its root, an empty index and a timestamp" },
  args: {
    dir: dirArg,
    "root-key": { type: "string", description: "root private key (repeatable)" },
    "root-threshold": { type: "string", description: "root signatures required (default 1)" },
    ...signerArgs,
  },
  run: ({ args, ...ctx }) =>
    registryInitCommand({ dir: String(args.dir), rootKeys: flagsOf(ctx).all("root-key"), rootThreshold: int("root-threshold", args["root-threshold"]), ...signerKeys(flagsOf(ctx)) }),
});

const trust = defineCommand({
  meta: { name: "trust-publisher", description: "Lets a publisher key publish in namespaces" },
  args: { dir: dirArg, key: { type: "string", required: true, description: "publisher public key" }, namespace: { type: "string", description: "namespace (repeatable, comma-separated)" }, ...signerArgs },
  run: ({ args, ...ctx }) => trustPublisherCommand({ dir: String(args.dir), key: String(args.key), namespaces: flagsOf(ctx).list("namespace"), ...signerKeys(flagsOf(ctx)) }),
});

const sign = defineCommand({
  meta: { name: "sign", description: "Publisher side: signs a plugin module and its metadata (writes a statement file)" },
  args: {
    wasm: { type: "positional", required: true, description: "plugin .wasm" },
    name: { type: "string", required: true, description: "namespace/name" },
    version: { type: "string", required: true, description: "semantic version" },
    capabilities: { type: "string", description: "declared capabilities, comma-separated" },
    key: { type: "string", required: true, description: "publisher private key" },
    out: { type: "string", description: "statement file (default: next to the .wasm)" },
    ...limitArgs,
  },
  run: async ({ args, ...ctx }) => {
    await registrySignCommand({
      wasm: String(args.wasm),
      name: String(args.name),
      version: String(args.version),
      capabilities: flagsOf(ctx).list("capabilities"),
      memoryMiB: int("memory", args.memory),
      cpuMs: int("cpu", args.cpu),
      key: String(args.key),
      ...(args.out !== undefined ? { out: String(args.out) } : {}),
    });
  },
});

const publish = defineCommand({
  meta: { name: "publish", description: "Adds a signed plugin version with its vetting record; re-signs index and timestamp" },
  args: {
    dir: dirArg,
    wasm: { type: "string", required: true, description: "plugin .wasm" },
    statement: { type: "string", description: "statement from `imgb registry sign`" },
    "publisher-key": { type: "string", description: "sign here instead (with --name, --version, --capabilities)" },
    name: { type: "string", description: "namespace/name (with --publisher-key)" },
    version: { type: "string", description: "semantic version (with --publisher-key)" },
    capabilities: { type: "string", description: "comma-separated (with --publisher-key)" },
    reviewer: { type: "string", required: true, description: "who vetted the plugin" },
    repository: { type: "string", required: true, description: "source repository that was reviewed" },
    commit: { type: "string", required: true, description: "commit that was reviewed" },
    date: { type: "string", description: "review date (ISO 8601 UTC; default now)" },
    note: { type: "string", description: "reviewer note (the policy requires one for some capabilities, e.g. local_exec)" },
    policy: { type: "string", description: "vetting policy file (JSON; default: local_exec needs a note)" },
    source: { type: "string", description: "checkout of the repository: vetting rebuilds --commit from it and runs its imgb plugin test" },
    push: { type: "string", description: "then push the registry to oci://HOST/REPOSITORY" },
    ...limitArgs,
    ...signerArgs,
  },
  run: ({ args, ...ctx }) =>
    registryPublishCommand({
      dir: String(args.dir),
      wasm: String(args.wasm),
      ...(args.statement !== undefined ? { statement: String(args.statement) } : {}),
      ...(args["publisher-key"] !== undefined
        ? {
            sign: {
              key: String(args["publisher-key"]),
              name: String(args.name ?? ""),
              version: String(args.version ?? ""),
              capabilities: flagsOf(ctx).list("capabilities"),
              memoryMiB: int("memory", args.memory),
              cpuMs: int("cpu", args.cpu),
            },
          }
        : {}),
      reviewer: String(args.reviewer),
      repository: String(args.repository),
      commit: String(args.commit),
      ...(args.date !== undefined ? { date: String(args.date) } : {}),
      ...(args.note !== undefined ? { note: String(args.note) } : {}),
      ...(args.policy !== undefined ? { policy: String(args.policy) } : {}),
      ...(args.source !== undefined ? { source: String(args.source) } : {}),
      ...(args.push !== undefined ? { push: String(args.push) } : {}),
      ...signerKeys(flagsOf(ctx)),
    }),
});

const rotateRoot = defineCommand({
  meta: { name: "rotate-root", description: "Writes the next root version (new keys), signed by old and new root keys; re-signs the index" },
  args: {
    dir: dirArg,
    "old-root-key": { type: "string", description: "current root private key (repeatable; enough to meet its threshold)" },
    "root-key": { type: "string", description: "new root private key (repeatable)" },
    "root-threshold": { type: "string", description: "new root signatures required (default 1)" },
    ...signerArgs,
  },
  run: ({ args, ...ctx }) =>
    registryRotateRootCommand({
      dir: String(args.dir),
      oldRootKeys: flagsOf(ctx).all("old-root-key"),
      rootKeys: flagsOf(ctx).all("root-key"),
      rootThreshold: int("root-threshold", args["root-threshold"]),
      ...signerKeys(flagsOf(ctx)),
    }),
});

const yank = defineCommand({
  meta: { name: "yank", description: "Marks a plugin version as yanked (no longer chosen by constraints)" },
  args: { dir: dirArg, name: { type: "string", required: true, description: "namespace/name" }, version: { type: "string", required: true, description: "version" }, ...signerArgs },
  run: ({ args, ...ctx }) => registryYankCommand({ dir: String(args.dir), name: String(args.name), version: String(args.version), ...signerKeys(flagsOf(ctx)) }),
});

const alias = defineCommand({
  meta: { name: "alias", description: "Serves a Packer source address (HOST/NAMESPACE/TYPE) as one of this registry's plugins" },
  args: { dir: dirArg, source: { type: "string", required: true, description: "e.g. github.com/acme/packer-plugin-motd" }, name: { type: "string", required: true, description: "namespace/name published here" }, ...signerArgs },
  run: ({ args, ...ctx }) => registryAliasCommand({ dir: String(args.dir), source: String(args.source), name: String(args.name), ...signerKeys(flagsOf(ctx)) }),
});

const timestamp = defineCommand({
  meta: { name: "timestamp", description: "Re-signs the short-lived timestamp (run on a schedule)" },
  args: { dir: dirArg, "timestamp-key": signerArgs["timestamp-key"], hours: { type: "string", description: "lifetime in hours (default 24)" } },
  run: ({ args, ...ctx }) => registryTimestampCommand({ dir: String(args.dir), timestampKeys: flagsOf(ctx).all("timestamp-key"), hours: int("hours", args.hours) }),
});

const serve = defineCommand({
  meta: { name: "serve", description: "Serves a registry folder over HTTP (static files)" },
  args: { dir: dirArg, port: { type: "string", default: "8080", description: "port" }, host: { type: "string", default: "127.0.0.1", description: "address to listen on" } },
  run: ({ args }) => registryServeCommand({ dir: String(args.dir), port: int("port", args.port) ?? 8080, host: String(args.host) }),
});

const projectArg = { project: { type: "string", description: `use DIR/imgb.registries.json (a team's file next to its templates) instead of your own configuration` } } as const;
const projectOf = (args: Record<string, unknown>) => (args.project !== undefined ? { projectDir: String(args.project) } : {});

const add = defineCommand({
  meta: { name: "add", description: "Configures a registry to install plugins from, with its root of trust pinned" },
  args: {
    name: { type: "positional", required: true, description: "a name for the registry" },
    url: { type: "positional", required: true, description: "http(s)://..., file://... or oci://HOST/REPOSITORY" },
    root: { type: "string", description: "the registry's root.json, obtained out of band" },
    "root-sha256": { type: "string", description: "sha256 of the registry's 1.root.json, obtained out of band" },
    namespace: { type: "string", description: "plugin namespaces only this registry serves (repeatable, comma-separated)" },
    ...projectArg,
  },
  run: ({ args, ...ctx }) =>
    registryAddCommand({
      name: String(args.name),
      url: String(args.url),
      ...(args.root !== undefined ? { root: String(args.root) } : {}),
      ...(args["root-sha256"] !== undefined ? { rootSha256: String(args["root-sha256"]) } : {}),
      namespaces: flagsOf(ctx).list("namespace"),
      ...projectOf(args),
    }),
});

const list = defineCommand({
  meta: { name: "list", description: "Lists the configured registries, in the order they are searched" },
  args: { ...projectArg },
  run: ({ args }) => registryListCommand(projectOf(args)),
});

const remove = defineCommand({
  meta: { name: "remove", description: "Removes a configured registry" },
  args: { name: { type: "positional", required: true, description: "registry name" }, ...projectArg },
  run: ({ args }) => registryRemoveCommand({ name: String(args.name), ...projectOf(args) }),
});

const vet = defineCommand({
  meta: { name: "vet", description: "Checks a submitted plugin against its signed statement and the registry's policy; prints a report" },
  args: {
    wasm: { type: "positional", required: true, description: "plugin .wasm" },
    statement: { type: "string", required: true, description: "statement from `imgb registry sign`" },
    policy: { type: "string", description: "vetting policy file (JSON)" },
    note: { type: "string", description: "reviewer note" },
    source: { type: "string", description: "the plugin's source (git checkout or folder): rebuild it and compare sha256, run its imgb plugin test" },
    commit: { type: "string", description: "with --source in a git checkout: the commit to rebuild (default HEAD)" },
  },
  run: async ({ args }) => {
    process.exitCode = await registryVetCommand({
      wasm: String(args.wasm),
      statement: String(args.statement),
      ...(args.source !== undefined ? { source: String(args.source) } : {}),
      ...(args.commit !== undefined ? { commit: String(args.commit) } : {}),
      ...(args.policy !== undefined ? { policy: String(args.policy) } : {}),
      ...(args.note !== undefined ? { note: String(args.note) } : {}),
    });
  },
});

const push = defineCommand({
  meta: { name: "push", description: "Copies a registry folder into an OCI registry (oci://HOST/REPOSITORY), timestamp last" },
  args: { dir: dirArg, url: { type: "positional", required: true, description: "oci://HOST/REPOSITORY" } },
  run: ({ args }) => registryPushCommand({ dir: String(args.dir), url: String(args.url) }),
});

export default defineCommand({
  meta: { name: "registry", description: "Configure the registries plugins come from (add, list, remove); run a signed registry: keys, metadata, vetting, publishing, serving" },
  subCommands: { add, list, remove, keygen, init, "trust-publisher": trust, sign, vet, publish, push, alias, yank, timestamp, "rotate-root": rotateRoot, serve },
});
