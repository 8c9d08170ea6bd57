// Where Packer looks for plugin binaries, and which one serves a builder type.
//   - single-component (legacy) plugins: `packer-builder-NAME`, one builder each, run bare;
//   - multi-component plugins: `packer-plugin-NAME` (as installed: packer-plugin-NAME_vX.Y.Z_x5.0_OS_ARCH
//     under a source path such as github.com/hashicorp/NAME/), `describe` lists their components and
//     `start builder COMPONENT` serves one; the type is NAME-COMPONENT, or NAME for the component
//     "-packer-default-plugin-name-".
// Folders, lowest priority first (a later folder's binary wins, as in Packer 1.6.6): the folder of
// the imgb binary, the legacy ~/.packer.d/plugins, Packer's ~/.config/packer/plugins (or
// $PACKER_CONFIG_DIR/plugins), the working directory, and each folder of PACKER_PLUGIN_PATH.
import { describeIssues } from "../errors/valibot-issues.ts";
import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { spawnChild, type ChildResult } from "../process/child.ts";
import { abortReason, interruptSignal } from "../process/interrupts.ts";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "./handshake.ts";

export type ComponentKind = "builder" | "datasource";

export interface PluginBinary {
  /** The command that serves the component. */
  argv: string[];
  /** The binary, for messages. */
  path: string;
  multiComponent: boolean;
  /**
   * How ConfigSpec, OutputSpec and Execute's value travel: protobuf/msgpack when the plugin's
   * description says protocol v2 (it is then started with --protobuf, as Packer does), else gob.
   */
  encoding: "gob" | "protobuf";
}

/** PACKER_FORCE_GOB (set, and not "0") keeps every plugin on gob, as in Packer. */
export function gobForced(): boolean {
  const v = process.env.PACKER_FORCE_GOB;
  return v !== undefined && v !== "" && v !== "0";
}

/** Packer's own plugin folder, where `packer init` (and `imgb init`) install. */
export function packerPluginDir(): string {
  const configDir = process.env.PACKER_CONFIG_DIR;
  if (configDir) return join(configDir, "plugins");
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg || join(homedir(), ".config"), "packer", "plugins");
}

export interface PluginFolder {
  dir: string;
  /** Installed plugins sit below their source path (github.com/OWNER/NAME/); other folders are flat. */
  nested: boolean;
}

export function pluginFolders(): PluginFolder[] {
  const dirs: PluginFolder[] = [
    { dir: dirname(process.execPath), nested: false },
    { dir: join(homedir(), ".packer.d", "plugins"), nested: false },
    { dir: packerPluginDir(), nested: true },
    { dir: process.cwd(), nested: false },
  ];
  for (const p of (process.env.PACKER_PLUGIN_PATH ?? "").split(":")) if (p) dirs.push({ dir: resolve(p), nested: true });
  const seen = new Set<string>();
  return dirs.filter((d) => !seen.has(d.dir) && seen.add(d.dir));
}

const LEGACY_PREFIX: Record<ComponentKind, string> = { builder: "packer-builder-", datasource: "packer-datasource-" };
const DEFAULT_NAME = "-packer-default-plugin-name-";
/** packer-plugin-NAME, optionally _vX.Y.Z[-pre]_xMAJOR.MINOR_OS_ARCH as `packer init` names it. */
const MULTI_NAME = /^packer-plugin-([a-z0-9-]+?)(?:_v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)_x(\d+)\.(\d+)_([a-z0-9]+)_([a-z0-9]+))?$/;

const isExecutableFile = (path: string): boolean => {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
};

/** Every executable below a folder (installed plugins sit under their source path), a few levels deep. */
function executablesUnder(dir: string, depth = 4): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...executablesUnder(p, depth - 1));
    else if (isExecutableFile(p)) out.push(p);
  }
  return out;
}

const DescribeSchema = v.object({
  version: v.optional(v.string()),
  sdk_version: v.optional(v.string()),
  api_version: v.string(),
  builders: v.nullish(v.array(v.string())),
  post_processors: v.nullish(v.array(v.string())),
  provisioners: v.nullish(v.array(v.string())),
  datasources: v.nullish(v.array(v.string())),
  protocol_version: v.optional(v.string()),
});
export type PluginDescription = v.InferOutput<typeof DescribeSchema>;

/** Runs `PLUGIN describe` (no magic cookie needed) and checks its JSON. */
export async function describePlugin(path: string, timeoutMs = 10_000): Promise<PluginDescription> {
  const interrupted = interruptSignal();
  if (interrupted?.aborted) throw new Error(`plugin ${path}: not asked to describe itself: ${abortReason(interrupted)}`);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const signal = interrupted ? AbortSignal.any([ac.signal, interrupted]) : ac.signal;
  // describe changes nothing: a plugin that ignores SIGTERM is not waited for.
  let r: ChildResult;
  try {
    r = await spawnChild([path, "describe"], { captureStdout: true, signal, stopSignal: "SIGKILL", env: { ...process.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE } }).done;
  } finally {
    clearTimeout(timer);
  }
  if (r.aborted && interrupted?.aborted) throw new Error(`plugin ${path}: describe cancelled: ${abortReason(interrupted)}; killed`);
  if (r.aborted) throw new Error(`plugin ${path}: describe did not answer within ${timeoutMs / 1000} s; killed`);
  if (r.exitCode !== 0) throw new Error(`plugin ${path}: describe exited with status ${r.exitCode}: ${r.stderrTail.trim()}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(r.stdout));
  } catch {
    throw new Error(`plugin ${path}: describe printed no JSON`);
  }
  const parsed = v.safeParse(DescribeSchema, json);
  if (!parsed.success) throw new Error(`plugin ${path}: describe output is not a plugin description: ${describeIssues(parsed.issues, 1)}`);
  return parsed.output;
}

/** The component names a multi-component plugin's description gives a type its templates use. */
export function componentTypes(pluginName: string, components: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of components) m.set(c === DEFAULT_NAME ? pluginName : `${pluginName}-${c}`, c);
  return m;
}

/**
 * The plugin that serves a builder (or data source) type, or undefined. Multi-component plugins are
 * asked to describe themselves only when their name could serve the type.
 */
export async function findComponent(
  kind: ComponentKind,
  type: string,
  folders = pluginFolders(),
  /** false: name a multi-component plugin whose name could serve the type, without running it (inspect). */
  describe = true,
): Promise<PluginBinary | undefined> {
  let found: PluginBinary | undefined;
  for (const { dir, nested } of folders) {
    const legacy = join(dir, LEGACY_PREFIX[kind] + type);
    if (isExecutableFile(legacy)) found = { argv: [legacy], path: legacy, multiComponent: false, encoding: "gob" };
    const multis = executablesUnder(dir, nested ? 4 : 0)
      .map((path) => ({ path, m: MULTI_NAME.exec(path.slice(path.lastIndexOf("/") + 1)) }))
      .filter((x) => x.m && (type === x.m[1] || type.startsWith(`${x.m[1]}-`)))
      .filter((x) => !x.m![5] || (x.m![5] === process.platform && x.m![6] === goArch()))
      .sort((a, b) => compareVersions(a.m![2] ?? "0.0.0", b.m![2] ?? "0.0.0"));
    for (const { path, m } of multis.reverse()) {
      if (!describe) {
        found = { argv: [path], path, multiComponent: true, encoding: "gob" };
        break;
      }
      const desc = await describePlugin(path);
      const list = kind === "builder" ? desc.builders : desc.datasources;
      const component = componentTypes(m![1]!, list ?? []).get(type);
      if (component) {
        const protobuf = desc.protocol_version === "v2" && !gobForced();
        found = { argv: [path, "start", kind, ...(protobuf ? ["--protobuf"] : []), component], path, multiComponent: true, encoding: protobuf ? "protobuf" : "gob" };
        break;
      }
    }
  }
  return found;
}

export function goArch(): string {
  return ({ x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" } as Record<string, string>)[process.arch] ?? process.arch;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number(x));
  const pb = b.split(/[.-]/).map((x) => Number(x));
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
