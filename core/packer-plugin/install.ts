// Installing a native Packer plugin as `packer init` does (packer/plugin-getter, github getter),
// into Packer's own plugin folder so Packer and imgb share it:
//   releases   GET {api}/repos/OWNER/packer-plugin-NAME/git/matching-refs/tags  -> [{ref: "refs/tags/vX.Y.Z"}]
//   checksums  GET {web}/OWNER/packer-plugin-NAME/releases/download/vX.Y.Z/packer-plugin-NAME_vX.Y.Z_SHA256SUMS
//   archive    GET {web}/OWNER/packer-plugin-NAME/releases/download/vX.Y.Z/packer-plugin-NAME_vX.Y.Z_x5.0_OS_ARCH.zip
// The zip must match its SHA256SUMS line; its binary is checked with `describe` (version and API),
// then written to PLUGINDIR/github.com/OWNER/NAME/packer-plugin-NAME_vX.Y.Z_x5.0_OS_ARCH with the
// binary's own sha256 beside it (`_SHA256SUM`), as Packer writes them.
// The installed plugin is native code that runs unsandboxed with the user's rights, as under Packer.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { highestSatisfying, parseConstraint } from "../registry/constraints.ts";
import { describePlugin, goArch } from "./discover.ts";

export interface PackerPluginSource {
  host: string;
  owner: string;
  name: string;
}

/** "github.com/hashicorp/amazon" (Packer's source form); undefined for anything else. */
export function parsePackerSource(source: string): PackerPluginSource | undefined {
  const m = /^(github\.com)\/([A-Za-z0-9_.-]+)\/([a-z0-9-]+)$/.exec(source);
  return m ? { host: m[1]!, owner: m[2]!, name: m[3]! } : undefined;
}

export interface InstallOptions {
  /** GitHub's API and web roots; tests point both at a local server. */
  apiBase?: string;
  webBase?: string;
  /** Reinstall even when a satisfying version is installed. */
  upgrade?: boolean;
  fetch?: typeof fetch;
}

export interface InstalledPackerPlugin {
  version: string;
  binary: string;
  /** False when a satisfying version was already installed. */
  downloaded: boolean;
}

export class PluginInstallError extends Error {
  constructor(
    source: string,
    message: string,
    /** True when the release list itself could not be had: no such plugin there, or no way to reach it. */
    readonly unavailable = false,
  ) {
    super(`plugin ${source}: ${message}`);
    this.name = "PluginInstallError";
  }
}

const API_MINOR = "0";

export async function installPackerPlugin(source: string, constraintText: string, pluginDir: string, opts: InstallOptions = {}): Promise<InstalledPackerPlugin> {
  const src = parsePackerSource(source);
  if (!src) throw new PluginInstallError(source, 'not a Packer plugin source (expected "github.com/OWNER/NAME")');
  const constraint = parseConstraint(constraintText);
  if ("error" in constraint) throw new PluginInstallError(source, constraint.error);
  const http = opts.fetch ?? fetch;
  const apiBase = opts.apiBase ?? process.env.IMGB_PACKER_PLUGIN_API ?? "https://api.github.com";
  const webBase = opts.webBase ?? process.env.IMGB_PACKER_PLUGIN_WEB ?? "https://github.com";
  const repo = `${src.owner}/packer-plugin-${src.name}`;
  const folder = join(pluginDir, src.host, src.owner, src.name);
  const platform = `x5.${API_MINOR}_${process.platform}_${goArch()}`;
  const binaryName = (v: string) => `packer-plugin-${src.name}_v${v}_${platform}`;

  const get = async (url: string): Promise<Response> => {
    let res: Response;
    try {
      res = await http(url, { redirect: "follow" });
    } catch (err) {
      throw new PluginInstallError(source, `GET ${url}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new PluginInstallError(source, `GET ${url}: HTTP ${res.status}`);
    return res;
  };

  const listing = await get(`${apiBase}/repos/${repo}/git/matching-refs/tags`).catch((err: unknown) => {
    throw err instanceof PluginInstallError ? new PluginInstallError(source, err.message.replace(`plugin ${source}: `, ""), true) : err;
  });
  const refs = (await listing.json().catch(() => null)) as Array<{ ref?: unknown }> | null;
  if (!Array.isArray(refs)) throw new PluginInstallError(source, "the release list is not JSON");
  const versions = refs.map((r) => String(r.ref ?? "").replace(/^refs\/tags\/v?/, "")).filter(Boolean);
  const version = highestSatisfying(constraint, versions);
  if (!version) throw new PluginInstallError(source, `no release satisfies ${JSON.stringify(constraintText)} (releases: ${versions.join(", ") || "none"})`);

  const target = join(folder, binaryName(version));
  if (!opts.upgrade && existsSync(target) && existsSync(`${target}_SHA256SUM`)) {
    const want = readFileSync(`${target}_SHA256SUM`, "utf8").trim();
    if (sha256(readFileSync(target)) === want) return { version, binary: target, downloaded: false };
  }

  const base = `${webBase}/${repo}/releases/download/v${version}`;
  const sums = await (await get(`${base}/packer-plugin-${src.name}_v${version}_SHA256SUMS`)).text();
  const zipName = `${binaryName(version)}.zip`;
  const line = sums.split("\n").map((l) => l.trim().split(/\s+/)).find((p) => p[1] === zipName);
  if (!line) throw new PluginInstallError(source, `SHA256SUMS of v${version} lists no ${zipName} (no build for this platform)`);
  const zip = new Uint8Array(await (await get(`${base}/${zipName}`)).arrayBuffer());
  if (sha256(zip) !== line[0]!.toLowerCase()) throw new PluginInstallError(source, `${zipName} does not match its SHA256SUMS entry; nothing installed`);
  const binary = unzipEntry(zip, binaryName(version));
  if (!binary) throw new PluginInstallError(source, `${zipName} holds no ${binaryName(version)}`);

  // Checked before it goes where discovery finds it: the binary must describe itself as this release.
  mkdirSync(folder, { recursive: true });
  const staging = `${target}.partial`;
  writeFileSync(staging, binary);
  chmodSync(staging, 0o755);
  try {
    const desc = await describePlugin(staging);
    if ((desc.version ?? "").replace(/^v/, "") !== version) throw new PluginInstallError(source, `the binary says it is version ${desc.version}, the release is v${version}`);
    if (!desc.api_version.startsWith("x5.")) throw new PluginInstallError(source, `the binary speaks plugin API ${desc.api_version}; imgb speaks x5.0 and x5.1`);
  } catch (err) {
    rmSync(staging, { force: true });
    throw err instanceof PluginInstallError ? err : new PluginInstallError(source, (err as Error).message);
  }
  renameSync(staging, target);
  writeFileSync(`${target}_SHA256SUM`, sha256(binary));
  return { version, binary: target, downloaded: true };
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** One file of a zip archive (stored or deflated), found through the central directory. */
export function unzipEntry(zip: Uint8Array, name: string): Uint8Array | undefined {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  for (let n = 0; n < count; n++) {
    if (p + 46 > zip.length || view.getUint32(p, true) !== 0x02014b50) return undefined;
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const entry = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen));
    if (entry === name) {
      if (view.getUint32(local, true) !== 0x04034b50) return undefined;
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      const data = zip.subarray(start, start + compressed);
      if (method === 0) return data.slice();
      if (method === 8) return new Uint8Array(inflateRawSync(data));
      return undefined;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  return undefined;
}
