// What each `imgb registry ...`, `imgb plugins ...` and `imgb init` verb does, given plain options
// (cmd/ only parses flags). Output goes through a Ui so tests can read it.
import { installPackerPlugin, parsePackerSource, PluginInstallError } from "../packer-plugin/install.ts";
import { packerPluginDir } from "../packer-plugin/discover.ts";
import { readFile } from "node:fs/promises";
import { loadTemplate } from "../template/load.ts";
import type { Ui } from "../ui/types.ts";
import type { RegistryOptions } from "./config.ts";
import { consoleUi } from "./console-ui.ts";
import { RegistryError } from "./errors.ts";
import { initPlugins } from "./init.ts";
import { defaultResolvers, type PluginResolver } from "./resolvers.ts";
import { publicOf, readPrivateKey, readPublicKey, writeKeyPair } from "./keys.ts";
import { installPlugin, listInstalled, removePlugin, verifyInstalled } from "./manage.ts";
import { mirrorRegistry } from "./mirror.ts";
import { DEFAULT_LIMITS, aliasPlugin, initRegistry, parseSignedStatement, parseVetting, publishPlugin, rotateRoot, signPlugin, trustPublisher, writeStatement, yankPlugin } from "./publish.ts";
import { refreshTimestamp, updateIndex, type Signers } from "./repository.ts";
import type { Limits } from "./schema.ts";
import { serveRegistry } from "./serve.ts";
import { pushRegistry } from "./push.ts";
import { formatReport, readPolicy, vetPlugin } from "./vet.ts";
import { addRegistry, configuredRegistries, removeRegistry } from "./sources.ts";

const HOUR_MS = 3600 * 1000;

async function keys(paths: string[], role: string) {
  if (paths.length === 0) throw new RegistryError("usage", `a ${role} key is required (--${role}-key FILE.key)`);
  return Promise.all(paths.map(readPrivateKey));
}

async function signers(o: { indexKeys: string[]; timestampKeys: string[] }): Promise<Signers> {
  return { index: await keys(o.indexKeys, "index"), timestamp: await keys(o.timestampKeys, "timestamp") };
}

function limitsOf(o: { memoryMiB?: number; cpuMs?: number }): Limits {
  return { memoryMiB: o.memoryMiB ?? DEFAULT_LIMITS.memoryMiB, cpuMs: o.cpuMs ?? DEFAULT_LIMITS.cpuMs };
}

export async function keygenCommand(o: { out: string }, ui: Ui = consoleUi()): Promise<void> {
  const k = await writeKeyPair(o.out);
  ui.say(`Ed25519 key ${k.keyid}`);
  ui.message(`private: ${k.privatePath} (keep it secret; mode 0600)`);
  ui.message(`public:  ${k.publicPath}`);
}

export async function registryInitCommand(
  o: { dir: string; rootKeys: string[]; rootThreshold?: number; indexKeys: string[]; timestampKeys: string[] },
  ui: Ui = consoleUi(),
): Promise<void> {
  const root = await initRegistry(o.dir, {
    root: await keys(o.rootKeys, "root"),
    ...(o.rootThreshold !== undefined ? { rootThreshold: o.rootThreshold } : {}),
    index: await keys(o.indexKeys, "index"),
    timestamp: await keys(o.timestampKeys, "timestamp"),
  });
  ui.say(`Registry created in ${o.dir} (root version ${root.signed.version}, expires ${root.signed.expires})`);
  ui.message(`Clients add it with: imgb registry add NAME <where it is served> --root ${o.dir}/1.root.json (give them 1.root.json, or its sha256, out of band)`);
}

export async function trustPublisherCommand(o: { dir: string; key: string; namespaces: string[]; indexKeys: string[]; timestampKeys: string[] }, ui: Ui = consoleUi()): Promise<void> {
  if (o.namespaces.length === 0) throw new RegistryError("usage", "--namespace is required");
  const index = await trustPublisher(o.dir, await readPublicKey(o.key), o.namespaces, await signers(o));
  ui.say(`Publisher ${o.key} may publish in ${o.namespaces.join(", ")} (index version ${index.version})`);
}

export interface SignArgs {
  wasm: string;
  name: string;
  version: string;
  capabilities: string[];
  memoryMiB?: number;
  cpuMs?: number;
  key: string;
}

export async function registrySignCommand(o: SignArgs & { out?: string }, ui: Ui = consoleUi()): Promise<string> {
  const signed = signPlugin({ wasm: await readFile(o.wasm), name: o.name, version: o.version, capabilities: o.capabilities, limits: limitsOf(o) }, await readPrivateKey(o.key));
  const out = o.out ?? `${o.wasm.replace(/\.wasm$/, "")}.statement.json`;
  await writeStatement(out, signed);
  ui.say(`Signed ${o.name} ${o.version} (sha256 ${signed.statement.wasm.sha256}) -> ${out}`);
  return out;
}

export async function registryPublishCommand(
  o: {
    dir: string;
    wasm: string;
    /** A statement from `imgb registry sign`; or sign here with the publisher key and SignArgs. */
    statement?: string;
    sign?: Omit<SignArgs, "wasm">;
    reviewer: string;
    repository: string;
    commit: string;
    date?: string;
    /** Reviewer note (required by the policy for some capabilities). */
    note?: string;
    policy?: string;
    /** The plugin's source (a checkout of `repository`): vetting rebuilds `commit` from it and runs its tests. */
    source?: string;
    /** Then copy the registry folder to this OCI registry (oci://HOST/REPOSITORY). */
    push?: string;
    indexKeys: string[];
    timestampKeys: string[];
  },
  ui: Ui = consoleUi(),
): Promise<void> {
  let signed;
  if (o.statement !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(o.statement, "utf8"));
    } catch (e) {
      throw new RegistryError("usage", `cannot read statement ${o.statement}: ${(e as Error).message}`);
    }
    signed = parseSignedStatement(json, o.statement);
  } else if (o.sign) {
    signed = signPlugin({ wasm: await readFile(o.wasm), name: o.sign.name, version: o.sign.version, capabilities: o.sign.capabilities, limits: limitsOf(o.sign) }, await readPrivateKey(o.sign.key));
  } else {
    throw new RegistryError("usage", "publish needs --statement FILE (from `imgb registry sign`) or --publisher-key with --name and --version");
  }
  // Vetting is a pipeline: nothing is signed into the index that describes itself otherwise than the
  // statement says, or breaks the registry's policy.
  const report = await vetPlugin(new Uint8Array(await readFile(o.wasm)), signed.statement, {
    policy: await readPolicy(o.policy),
    ...(o.note !== undefined ? { note: o.note } : {}),
    ...(o.source !== undefined ? { source: { dir: o.source, commit: o.commit } } : {}),
  });
  for (const line of formatReport(report)) ui.message(line);
  if (!report.ok) throw new RegistryError("usage", `vetting failed: ${report.checks.filter((c) => c.status === "fail").map((c) => `${c.name} (${c.detail})`).join("; ")}; nothing was published`, { plugin: `${signed.statement.name} ${signed.statement.version}` });
  const vetting = parseVetting({
    reviewer: o.reviewer,
    repository: o.repository,
    commit: o.commit,
    date: o.date ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    checks: report.passed,
    ...(o.note !== undefined && o.note.trim() !== "" ? { note: o.note } : {}),
  });
  const index = await publishPlugin(o.dir, { wasmPath: o.wasm, signed, vetting, signers: await signers(o) });
  ui.say(`Published ${signed.statement.name} ${signed.statement.version} (index version ${index.version})`);
  if (o.push !== undefined) {
    const r = await pushRegistry(o.dir, o.push);
    ui.say(`Pushed ${o.dir} to ${r.display}: ${r.files} file(s), timestamp last`);
  }
}

/**
 * Root rotation: root N+1 with the given root/index/timestamp keys, signed by the old root keys and
 * the new ones; then index and timestamp re-signed with the (possibly new) index and timestamp keys.
 */
export async function registryRotateRootCommand(
  o: { dir: string; oldRootKeys: string[]; rootKeys: string[]; rootThreshold?: number; indexKeys: string[]; timestampKeys: string[] },
  ui: Ui = consoleUi(),
): Promise<void> {
  const oldRoot = await keys(o.oldRootKeys, "old-root");
  const newRoot = await keys(o.rootKeys, "root");
  const s = await signers(o);
  const env = await rotateRoot(o.dir, {
    oldRootKeys: oldRoot,
    newRootKeys: newRoot,
    newRoles: {
      root: { keys: newRoot.map(publicOf), ...(o.rootThreshold !== undefined ? { threshold: o.rootThreshold } : {}) },
      index: { keys: s.index.map(publicOf) },
      timestamp: { keys: s.timestamp.map(publicOf) },
    },
  });
  const index = await updateIndex(o.dir, s, () => {});
  ui.say(`Root version ${env.signed.version} written; index version ${index.version} re-signed with the new keys`);
}

export async function registryAliasCommand(o: { dir: string; source: string; name: string; indexKeys: string[]; timestampKeys: string[] }, ui: Ui = consoleUi()): Promise<void> {
  const index = await aliasPlugin(o.dir, o.source, o.name, await signers(o));
  ui.say(`${o.source} now resolves to ${o.name} in this registry (index version ${index.version})`);
}

export async function registryYankCommand(o: { dir: string; name: string; version: string; indexKeys: string[]; timestampKeys: string[] }, ui: Ui = consoleUi()): Promise<void> {
  const index = await yankPlugin(o.dir, o.name, o.version, await signers(o));
  ui.say(`Yanked ${o.name} ${o.version} (index version ${index.version})`);
}

export async function registryTimestampCommand(o: { dir: string; timestampKeys: string[]; hours?: number }, ui: Ui = consoleUi()): Promise<void> {
  const ts = await refreshTimestamp(o.dir, await keys(o.timestampKeys, "timestamp"), { lifetimes: { timestamp: (o.hours ?? 24) * HOUR_MS } });
  ui.say(`Timestamp version ${ts.signed.version} expires ${ts.signed.expires}`);
}

/** Serves until SIGINT/SIGTERM. */
export async function registryServeCommand(o: { dir: string; port: number; host?: string }, ui: Ui = consoleUi()): Promise<void> {
  const server = await serveRegistry(o.dir, { port: o.port, ...(o.host !== undefined ? { hostname: o.host } : {}) });
  ui.say(`Serving ${o.dir} at ${server.url} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await server.stop();
}

/** `imgb registry vet`: the report; returns the exit code (1 when a check failed). */
export async function registryVetCommand(
  o: { wasm: string; statement: string; policy?: string; note?: string; source?: string; commit?: string },
  ui: Ui = consoleUi(),
): Promise<number> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(o.statement, "utf8"));
  } catch (e) {
    throw new RegistryError("usage", `cannot read statement ${o.statement}: ${(e as Error).message}`);
  }
  const signed = parseSignedStatement(json, o.statement);
  if (o.commit !== undefined && o.source === undefined) throw new RegistryError("usage", "--commit names a commit of the source: give the source with --source DIR");
  const report = await vetPlugin(new Uint8Array(await readFile(o.wasm)), signed.statement, {
    policy: await readPolicy(o.policy),
    ...(o.note !== undefined ? { note: o.note } : {}),
    ...(o.source !== undefined ? { source: { dir: o.source, ...(o.commit !== undefined ? { commit: o.commit } : {}) } } : {}),
  });
  ui.say(`Vetting ${signed.statement.name} ${signed.statement.version} (${o.wasm})`);
  for (const line of formatReport(report)) ui.message(line);
  ui.say(report.ok ? `vetted: ${report.passed.join(", ")}` : "vetting FAILED");
  return report.ok ? 0 : 1;
}

export async function registryPushCommand(o: { dir: string; url: string }, ui: Ui = consoleUi()): Promise<void> {
  const r = await pushRegistry(o.dir, o.url);
  ui.say(`Pushed ${o.dir} to ${r.display}: ${r.files} file(s), ${r.bytes} bytes (timestamp last)`);
}

export async function registryAddCommand(o: { name: string; url: string; root?: string; rootSha256?: string; namespaces: string[]; projectDir?: string }, ui: Ui = consoleUi()): Promise<void> {
  const c = await addRegistry({
    name: o.name,
    url: o.url,
    ...(o.root !== undefined ? { root: o.root } : {}),
    ...(o.rootSha256 !== undefined ? { rootSha256: o.rootSha256 } : {}),
    namespaces: o.namespaces,
    ...(o.projectDir !== undefined ? { projectDir: o.projectDir } : {}),
  });
  ui.say(`Registry ${c.name} (${c.url}) added to ${c.file}${c.namespaces ? `, serving namespaces ${c.namespaces.join(", ")}` : ""}`);
}

export async function registryListCommand(o: { projectDir?: string }, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const list = await configuredRegistries(o.projectDir !== undefined ? { templateDir: o.projectDir } : {});
  if (list.length === 0) out('No registries configured. Add one with "imgb registry add NAME URL --root FILE".\n');
  for (const c of list) {
    const pin = c.rootSha256 !== undefined ? `root sha256:${c.rootSha256.slice(0, 16)}` : c.root !== undefined ? `root ${c.root}` : "NOT PINNED";
    out(`${c.name} ${c.url} ${pin} ${c.namespaces ? `namespaces:${c.namespaces.join(",")}` : "namespaces:any"} (${c.origin}${c.file ? ` ${c.file}` : ""})\n`);
  }
}

export async function registryRemoveCommand(o: { name: string; projectDir?: string }, ui: Ui = consoleUi()): Promise<void> {
  const file = await removeRegistry(o.name, o.projectDir !== undefined ? { projectDir: o.projectDir } : {});
  ui.say(`Registry ${o.name} removed from ${file}`);
}

export async function initCommand(
  o: { template: string; vars: Array<[string, string]>; varFiles: string[]; upgrade: boolean; acceptCapabilities: boolean; acceptDowngrade?: boolean; registry?: RegistryOptions },
  ui: Ui = consoleUi(),
): Promise<void> {
  // As Packer's init: only the packer {} blocks matter, so unset variables, unknown data sources or
  // builders elsewhere in the template do not stop it.
  const template = await loadTemplate(o.template, { vars: o.vars, varFiles: o.varFiles, env: process.env, syntaxOnly: true });
  if (template.requiredPlugins.length === 0) {
    ui.say("The template requires no plugins; nothing to do.");
  }
  const results = await initPlugins(
    template.requiredPlugins,
    template.dir,
    { upgrade: o.upgrade, acceptDowngrade: o.acceptDowngrade === true, acceptCapabilities: o.acceptCapabilities, ui, ...(o.registry ? { registry: o.registry } : {}) },
    defaultResolvers(
      { upgrade: o.upgrade, acceptDowngrade: o.acceptDowngrade === true, acceptCapabilities: o.acceptCapabilities, ui, templateDir: template.dir, ...(o.registry ? { registry: o.registry } : {}) },
      [nativePackerResolver(template.requiredPlugins, o.upgrade)],
    ),
  );
  const locked = results.filter((r) => r.provider === "registry").length;
  const builtin = results.filter((r) => r.provider === "builtin").length;
  if (builtin > 0) ui.say(`${builtin} plugin(s) built into imgb`);
  if (locked > 0) ui.say(`${locked} plugin(s) locked in ${template.dir}/.imgb.lock.json`);
}

export async function pluginsInstallCommand(
  o: { spec: string; allowUnsigned: boolean; acceptCapabilities: boolean; upgrade: boolean; name?: string; version?: string; capabilities?: string[]; memoryMiB?: number; cpuMs?: number; templateDir?: string },
  ui: Ui = consoleUi(),
): Promise<void> {
  const r = await installPlugin(o.spec, {
    ui,
    allowUnsigned: o.allowUnsigned,
    acceptCapabilities: o.acceptCapabilities,
    upgrade: o.upgrade,
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.version !== undefined ? { version: o.version } : {}),
    ...(o.capabilities !== undefined ? { capabilities: o.capabilities } : {}),
    ...(o.memoryMiB !== undefined || o.cpuMs !== undefined ? { limits: limitsOf(o) } : {}),
    ...(o.templateDir !== undefined ? { templateDir: o.templateDir } : {}),
  });
  ui.say(`Installed ${r.name} ${r.entry.version}${r.entry.signed ? "" : " (UNSIGNED)"} -> ${r.wasmPath}`);
}

export async function pluginsInstalledCommand(o: { templateDir?: string }, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const list = await listInstalled(o.templateDir !== undefined ? { templateDir: o.templateDir } : {});
  if (list.length === 0) out("No plugins installed.\n");
  for (const { name, entry } of list) {
    const caps = entry.capabilities.length > 0 ? entry.capabilities.join(",") : "-";
    out(`${name} ${entry.version} ${entry.signed ? "signed" : "UNSIGNED"} sha256:${entry.sha256.slice(0, 16)} capabilities:${caps}\n`);
  }
}

export async function pluginsRemoveCommand(o: { name: string; templateDir?: string }, ui: Ui = consoleUi()): Promise<void> {
  const e = await removePlugin(o.name, o.templateDir !== undefined ? { templateDir: o.templateDir } : {});
  ui.say(`Removed ${o.name} ${e.version}`);
}

/** Returns the exit code: 1 when any module is missing or altered. */
export async function pluginsVerifyCommand(o: { templateDir?: string; repair?: boolean }, ui: Ui = consoleUi()): Promise<number> {
  const results = await verifyInstalled({ ...(o.templateDir !== undefined ? { templateDir: o.templateDir } : {}), repair: o.repair === true, ui });
  for (const r of results) {
    const line = `${r.name} ${r.version}${r.signed ? "" : " (UNSIGNED)"}: ${r.status}${r.detail ? ` (${r.detail})` : ""}`;
    if (r.status === "ok" || r.status === "repaired") ui.message(line);
    else ui.error(line);
  }
  if (results.length === 0) ui.say("No plugins to verify.");
  return results.every((r) => r.status === "ok" || r.status === "repaired") ? 0 : 1;
}

export async function pluginsMirrorCommand(o: { url: string; dir: string }, ui: Ui = consoleUi()): Promise<void> {
  const r = await mirrorRegistry(o.url, o.dir);
  ui.say(`Mirrored ${o.url} to ${o.dir}: root version ${r.rootVersion}, index version ${r.indexVersion}, ${r.modules} module(s), ${r.bytes} bytes, all verified`);
}


/**
 * Last in the chain: a `github.com/OWNER/NAME` source nothing in imgb provides is Packer's own plugin
 * (builders, data sources), installed from its release layout into Packer's plugin folder and run
 * natively through the plugin protocol, as under Packer.
 */
function nativePackerResolver(required: ReadonlyArray<{ localName: string; source: string; versionConstraint: string }>, upgrade: boolean): PluginResolver {
  let lastMiss = "";
  return {
    name: "Packer plugin releases",
    get offers() {
      return `a github.com/OWNER/NAME plugin's release (SHA256SUMS checked) is installed into Packer's plugin folder and runs natively, unsandboxed, as under Packer${lastMiss ? ` (${lastMiss})` : ""}`;
    },
    async resolve(req) {
      if (!parsePackerSource(req.source.address)) return undefined;
      const text = required.find((r) => r.localName === req.localName)?.versionConstraint ?? "";
      let r: Awaited<ReturnType<typeof installPackerPlugin>>;
      try {
        r = await installPackerPlugin(req.source.address, text, packerPluginDir(), { upgrade });
      } catch (err) {
        // No release list to be had: this resolver does not provide it; the chain's error says so.
        if (err instanceof PluginInstallError && err.unavailable) {
          lastMiss = err.message;
          return undefined;
        }
        throw err;
      }
      return {
        kind: "other",
        summary: `v${r.version} ${r.downloaded ? "installed" : "already installed"} at ${r.binary} (a native Packer plugin: its builders and data sources run unsandboxed with your rights, as under Packer)`,
      };
    },
  };
}
