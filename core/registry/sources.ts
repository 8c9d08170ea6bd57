// Configured registries, like apt sources or Helm repositories: `imgb registry add NAME URL
// [--root FILE | --root-sha256 HEX] [--namespace NS]`, `list`, `remove`.
//
// Where they are kept, searched in this order (a name defined twice: the first one wins):
//   1. IMGB_REGISTRY_URL (+ IMGB_REGISTRY_ROOT): one registry for CI, named "IMGB_REGISTRY_URL";
//   2. the project file `imgb.registries.json` in the template's folder, for teams (checked in next to
//      the templates; root files it names are relative to it);
//   3. the user's file $XDG_CONFIG_HOME/imgb/registries.json (`imgb registry add` writes here, or
//      into the project file with --project DIR).
// Trust is pinned per registry: either a root file (copied into $XDG_CONFIG_HOME/imgb/roots/) or the
// sha256 of the registry's first root, `1.root.json`, as served (fetched on first contact, checked
// against the pin and kept in the state folder). A registry with neither is refused, with the
// command that pins it. Credentials never appear here: `user:password@` in a URL given to `add` is
// moved to the credentials store (core/registry/credentials.ts).
import { describeIssues } from "../errors/valibot-issues.ts";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import * as v from "valibot";
import { configDir, splitUrlCredentials, storeCredentials } from "./credentials.ts";
import { defaultStateDir, loadRootFile, parseRootBytes, registryConfigOf, resolveRegistryConfig, type RegistryConfig, type RegistryOptions } from "./config.ts";
import { CAPS } from "./download.ts";
import { RegistryError } from "./errors.ts";
import { jsonText, readIfExists, writeFileAtomic } from "./fsutil.ts";
import { SHA256_HEX, sha256Hex } from "./hashing.ts";
import { LAYOUT } from "./layout.ts";
import { transportFor } from "./transport.ts";

export const PROJECT_FILE = "imgb.registries.json";
const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,63}$/;

const EntrySchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(NAME, "a registry name is lowercase letters, digits, '.', '_' and '-'")),
  url: v.pipe(
    v.string(),
    v.check((u) => /^(https?|file|oci):\/\//.test(u), "expected an http://, https://, file:// or oci:// URL"),
    v.check((u) => splitUrlCredentials(u).credentials === undefined, "credentials do not belong in a stored URL"),
  ),
  root: v.optional(v.string()),
  rootSha256: v.optional(v.pipe(v.string(), v.regex(SHA256_HEX))),
  namespaces: v.optional(v.array(v.pipe(v.string(), v.regex(NAMESPACE)))),
});
const FileSchema = v.strictObject({ registries: v.array(EntrySchema) });
type Entry = v.InferOutput<typeof EntrySchema>;

export interface ConfiguredRegistry {
  name: string;
  url: string;
  /** Absolute path of a pinned root file. */
  root?: string;
  /** sha256 of the registry's `1.root.json`. */
  rootSha256?: string;
  /** Plugin namespaces this registry alone serves; absent: any (ordered search). */
  namespaces?: string[];
  origin: "environment" | "project" | "user";
  file?: string;
}

type Env = Record<string, string | undefined>;

export function userRegistriesPath(env: Env): string {
  return join(configDir(env), "registries.json");
}

async function readFileOf(path: string): Promise<Entry[]> {
  const bytes = await readIfExists(path);
  if (bytes === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RegistryError("usage", `${path} is not JSON`);
  }
  const r = v.safeParse(FileSchema, json);
  if (!r.success) {
    throw new RegistryError("usage", `${path}: ${describeIssues(r.issues, 1)}`);
  }
  return r.output.registries;
}

export async function configuredRegistries(opts: { env?: Env; templateDir?: string } = {}): Promise<ConfiguredRegistry[]> {
  const env = opts.env ?? process.env;
  const out: ConfiguredRegistry[] = [];
  if (env.IMGB_REGISTRY_URL) out.push({ name: "IMGB_REGISTRY_URL", url: env.IMGB_REGISTRY_URL, origin: "environment", ...(env.IMGB_REGISTRY_ROOT ? { root: env.IMGB_REGISTRY_ROOT } : {}) });
  const files: Array<[string, "project" | "user"]> = [];
  if (opts.templateDir !== undefined) files.push([join(opts.templateDir, PROJECT_FILE), "project"]);
  files.push([userRegistriesPath(env), "user"]);
  for (const [file, origin] of files) {
    for (const e of await readFileOf(file)) {
      if (out.some((o) => o.name === e.name)) continue;
      out.push({
        name: e.name,
        url: e.url,
        origin,
        file,
        ...(e.root !== undefined ? { root: isAbsolute(e.root) ? e.root : resolve(dirname(file), e.root) } : {}),
        ...(e.rootSha256 !== undefined ? { rootSha256: e.rootSha256 } : {}),
        ...(e.namespaces !== undefined ? { namespaces: e.namespaces } : {}),
      });
    }
  }
  return out;
}

function pinCommand(name: string, url: string, sha: string): string {
  return `imgb registry add ${name} ${url} --root-sha256 ${sha}`;
}

/** Fetches a registry's first root and checks it against a pin (or reports its hash when unpinned). */
async function firstRoot(url: string, name: string, env: Env, pin: string | undefined): Promise<{ bytes: Uint8Array; sha256: string }> {
  const transport = transportFor(url, { env });
  const where = { registry: transport.display };
  const bytes = await transport.get(LAYOUT.versionedRoot(1), CAPS.root, "root version 1", where);
  if (bytes === undefined) throw new RegistryError("not-found", `no ${LAYOUT.versionedRoot(1)}: is this an imgb registry?`, where);
  const sha256 = sha256Hex(bytes);
  if (pin === undefined) {
    throw new RegistryError(
      "usage",
      `not pinned: imgb trusts no registry on first contact. Its first root (1.root.json) has sha256 ${sha256}; check that value with the registry's operators (out of band), then run: ${pinCommand(name, transport.display, sha256)}`,
      where,
    );
  }
  if (sha256 !== pin) {
    throw new RegistryError("mismatch", `1.root.json has sha256 ${sha256}, not the pinned ${pin}: this is not the registry you pinned (or it was replaced)`, where);
  }
  return { bytes, sha256 };
}

/** The RegistryConfig of a configured registry: its pinned root loaded (fetched once when pinned by hash). */
export async function openConfigured(c: ConfiguredRegistry, opts: RegistryOptions = {}): Promise<RegistryConfig> {
  const env = opts.env ?? process.env;
  if (c.origin === "environment") return resolveRegistryConfig({ ...opts, url: c.url, ...(c.root !== undefined ? { rootPath: c.root } : {}) });
  if (c.root !== undefined) {
    const bytes = await readFile(c.root).catch((e: Error) => {
      throw new RegistryError("usage", `registry ${c.name}: cannot read its pinned root ${c.root}: ${e.message}`);
    });
    if (c.rootSha256 !== undefined && sha256Hex(bytes) !== c.rootSha256) {
      throw new RegistryError("mismatch", `registry ${c.name}: root file ${c.root} does not have the pinned sha256 ${c.rootSha256}`);
    }
    return registryConfigOf(c.name, c.url, parseRootBytes(bytes, c.root), c.root, opts);
  }
  const stateDir = opts.stateDir ?? defaultStateDir(env);
  if (c.rootSha256 !== undefined) {
    const kept = join(stateDir, "pinned-roots", `${c.rootSha256}.json`);
    let bytes = await readIfExists(kept);
    if (bytes === undefined || sha256Hex(bytes) !== c.rootSha256) {
      bytes = (await firstRoot(c.url, c.name, env, c.rootSha256)).bytes;
      await writeFileAtomic(kept, bytes);
    }
    return registryConfigOf(c.name, c.url, parseRootBytes(bytes, `${c.url} 1.root.json`), `1.root.json pinned by sha256 ${c.rootSha256.slice(0, 16)}…`, opts);
  }
  await firstRoot(c.url, c.name, env, undefined);
  throw new RegistryError("usage", `registry ${c.name} has no pinned root`);
}

export interface AddOptions {
  name: string;
  url: string;
  root?: string;
  rootSha256?: string;
  namespaces?: string[];
  /** Write into this folder's imgb.registries.json instead of the user's configuration. */
  projectDir?: string;
  env?: Env;
}

export async function addRegistry(o: AddOptions): Promise<ConfiguredRegistry> {
  const env = o.env ?? process.env;
  if (!NAME.test(o.name)) throw new RegistryError("usage", `registry name ${JSON.stringify(o.name)}: use lowercase letters, digits, '.', '_' and '-'`);
  const split = splitUrlCredentials(o.url);
  const url = split.url.replace(/\/+$/, "");
  transportFor(url, { env }); // checks the form
  if (o.root !== undefined && o.rootSha256 !== undefined) throw new RegistryError("usage", "give --root or --root-sha256, not both");
  if (o.rootSha256 !== undefined && !SHA256_HEX.test(o.rootSha256)) throw new RegistryError("usage", `--root-sha256 ${o.rootSha256}: expected 64 lowercase hex digits`);
  for (const ns of o.namespaces ?? []) if (!NAMESPACE.test(ns)) throw new RegistryError("usage", `--namespace ${JSON.stringify(ns)} is not a plugin namespace`);
  if (split.credentials && split.host) await storeCredentials(split.host, split.credentials, env);

  const file = o.projectDir !== undefined ? join(o.projectDir, PROJECT_FILE) : userRegistriesPath(env);
  const entry: Entry = { name: o.name, url };
  if (o.root !== undefined) {
    await loadRootFile(o.root); // refuses a root that is not signed by its own keys
    const bytes = await readFile(o.root);
    entry.rootSha256 = sha256Hex(bytes);
    if (o.projectDir !== undefined) {
      const rel = join("imgb-roots", `${o.name}.root.json`);
      await writeFileAtomic(join(o.projectDir, rel), bytes);
      entry.root = rel;
    } else {
      const kept = join(configDir(env), "roots", `${o.name}.root.json`);
      await writeFileAtomic(kept, bytes);
      entry.root = kept;
    }
  } else if (o.rootSha256 !== undefined) {
    await firstRoot(url, o.name, env, o.rootSha256);
    entry.rootSha256 = o.rootSha256;
  } else {
    await firstRoot(url, o.name, env, undefined); // refuses, printing the pin command
  }
  if (o.namespaces && o.namespaces.length > 0) entry.namespaces = [...new Set(o.namespaces)].sort();
  const entries = (await readFileOf(file)).filter((e) => e.name !== o.name);
  entries.push(entry);
  await writeFileAtomic(file, jsonText({ registries: entries }));
  const added = (await configuredRegistries({ env: { ...env, IMGB_REGISTRY_URL: undefined }, ...(o.projectDir !== undefined ? { templateDir: o.projectDir } : {}) })).find((c) => c.name === o.name && c.file === file);
  if (!added) throw new RegistryError("usage", `registry ${o.name} was written to ${file} but is shadowed by another of the same name`);
  return added;
}

export async function removeRegistry(name: string, opts: { projectDir?: string; env?: Env } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const file = opts.projectDir !== undefined ? join(opts.projectDir, PROJECT_FILE) : userRegistriesPath(env);
  const entries = await readFileOf(file);
  if (!entries.some((e) => e.name === name)) throw new RegistryError("not-found", `no registry named ${name} in ${file}`);
  await writeFileAtomic(file, jsonText({ registries: entries.filter((e) => e.name !== name) }));
  return file;
}
