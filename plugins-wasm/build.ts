// Builds every first-party plugin (plugins-wasm/<folder>/ with an imgb-plugin.json) to
// plugins-wasm/dist/<folder>.wasm, only when its sources (or the SDK, or the compiler) changed, with
// the command third parties use (`imgb plugin build DIR --out FILE`, run from sources), and keeps the
// embedded-plugin modules and the embedded SDK sources in core/plugin/embedded/ in step.
//
//   bun run plugins-wasm/build.ts          build what changed
//   bun run plugins-wasm/build.ts --force  rebuild everything
//
// Why generated modules: the compiled binary embeds each .wasm through a static
// `import path from "...wasm" with { type: "file" }`. That import sits alone in
// core/plugin/embedded/<folder>.ts, loaded with a dynamic import(), so the rest of the code base
// type-checks and loads when the .wasm files are not built yet (the failure is then a clear
// "embedded plugin X is not built" on first use). The modules only change when folders do.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ASC_FLAGS, compileAssemblyScript } from "../core/plugin/toolchain/asc.ts";

const ROOT = import.meta.dir;
const REPO = join(ROOT, "..");
const DIST = join(ROOT, "dist");
const EMBEDDED_DIR = join(REPO, "core", "plugin", "embedded");
const SDK_ROOT = join(ROOT, "sdk");
const SDK = join(SDK_ROOT, "assembly");
/** Compiler flags; part of the cache key. */
const FLAGS = ASC_FLAGS;

export interface PluginManifest {
  kind: "provisioner" | "post-processor";
  name: string;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

function sourceHash(files: string[], extra: string): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(extra);
  for (const f of files) {
    h.update(relative(REPO, f));
    h.update(readFileSync(f));
  }
  return h.digest("hex");
}

function ascVersion(): string {
  try {
    return JSON.parse(readFileSync(join(REPO, "node_modules", "assemblyscript", "package.json"), "utf8")).version as string;
  } catch {
    return "unknown";
  }
}

function stampFor(entry: string, outFile: string): { hash: string; stamp: string; fresh: boolean } {
  const folder = dirname(dirname(entry));
  const hash = sourceHash([...listFiles(dirname(entry)), ...listFiles(SDK), join(folder, "imgb-plugin.json")].filter(existsSync), `${ascVersion()} ${FLAGS.join(" ")} ${relative(REPO, entry)}`);
  const stamp = `${outFile}.hash`;
  return { hash, stamp, fresh: existsSync(outFile) && existsSync(stamp) && readFileSync(stamp, "utf8") === hash };
}

/**
 * Compiles one AssemblyScript entry file (that imports plugins-wasm/sdk) to a .wasm, in this process,
 * when the entry's folder, the SDK or the flags changed since the last build. Returns true when it
 * compiled. Used for the test suites' own plugins.
 */
export async function compilePlugin(entry: string, outFile: string, opts: { force?: boolean } = {}): Promise<boolean> {
  const { hash, stamp, fresh } = stampFor(entry, outFile);
  if (!opts.force && fresh) return false;
  await compileAssemblyScript({ entry, sdkDir: SDK_ROOT, outFile });
  writeFileSync(stamp, hash);
  return true;
}

/** Builds a first-party plugin folder with `imgb plugin build` (from sources), when it changed. */
async function buildFirstParty(folder: string, outFile: string, force: boolean): Promise<boolean> {
  const { hash, stamp, fresh } = stampFor(join(ROOT, folder, "assembly", "plugin.ts"), outFile);
  if (!force && fresh) return false;
  const proc = Bun.spawn([process.execPath, join(REPO, "cmd", "main.ts"), "plugin", "build", join(ROOT, folder), "--out", outFile], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`imgb plugin build failed for plugins-wasm/${folder} (exit ${code}):\n${out}${err}`);
  writeFileSync(stamp, hash);
  return true;
}

export function pluginFolders(): Array<{ folder: string; manifest: PluginManifest }> {
  const out: Array<{ folder: string; manifest: PluginManifest }> = [];
  for (const e of readdirSync(ROOT, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const manifestPath = join(ROOT, e.name, "imgb-plugin.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as PluginManifest;
    if (manifest.kind !== "provisioner" && manifest.kind !== "post-processor") throw new Error(`${manifestPath}: kind must be provisioner or post-processor`);
    out.push({ folder: e.name, manifest });
  }
  return out.sort((a, b) => a.folder.localeCompare(b.folder));
}

function writeIfChanged(path: string, content: string): void {
  if (existsSync(path) && readFileSync(path, "utf8") === content) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** Writes core/plugin/embedded/index.ts (removing the per-plugin modules earlier builds wrote). */
export function writeEmbeddedModules(plugins: Array<{ folder: string; manifest: PluginManifest }>): void {
  const header = "// Generated by plugins-wasm/build.ts from plugins-wasm/*/imgb-plugin.json. Do not edit.\n";
  // Remove modules of plugin folders that are gone (only files this build generated).
  const wanted = new Set(["index.ts"]);
  if (existsSync(EMBEDDED_DIR)) {
    for (const f of readdirSync(EMBEDDED_DIR)) {
      const path = join(EMBEDDED_DIR, f);
      if (f.endsWith(".ts") && !f.endsWith(".d.ts") && !wanted.has(f) && readFileSync(path, "utf8").startsWith(header)) rmSync(path);
    }
  }
  const rows = plugins
    .map((p) => `  { kind: ${JSON.stringify(p.manifest.kind)}, name: ${JSON.stringify(p.manifest.name)}, folder: ${JSON.stringify(p.folder)} },`)
    .join("\n");
  writeIfChanged(
    join(EMBEDDED_DIR, "index.ts"),
    `${header}import type { PluginKind } from "../types.ts";\n\nexport interface EmbeddedPlugin {\n  kind: PluginKind;\n  name: string;\n  /** Its folder under plugins-wasm/ (bytes.ts finds the module by it). */\n  folder: string;\n}\n\nexport const EMBEDDED_PLUGINS: EmbeddedPlugin[] = [\n${rows}\n];\n`,
  );
}

export async function buildAll(force = false): Promise<{ built: string[]; upToDate: string[] }> {
  const plugins = pluginFolders();
  writeEmbeddedModules(plugins);
  const built: string[] = [];
  const upToDate: string[] = [];
  // Two at a time: the machine has two cores and asc is single-threaded.
  const queue = [...plugins];
  const failures: string[] = [];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      try {
        const did = await buildFirstParty(p.folder, join(DIST, `${p.folder}.wasm`), force);
        (did ? built : upToDate).push(p.folder);
      } catch (e) {
        // Keep building the others: one broken plugin should not hide the state of the rest.
        failures.push((e as Error).message);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  if (failures.length > 0) throw new Error(`${failures.length} plugin(s) failed to build:\n${failures.join("\n")}`);
  return { built, upToDate };
}

if (import.meta.main) {
  const started = performance.now();
  let result: { built: string[]; upToDate: string[] };
  try {
    result = await buildAll(process.argv.includes("--force"));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  const { built, upToDate } = result;
  const ms = Math.round(performance.now() - started);
  console.log(`plugins: built ${built.length ? built.join(", ") : "none"}; up to date ${upToDate.length ? upToDate.join(", ") : "none"} (${ms} ms)`);
}
