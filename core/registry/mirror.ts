// `imgb plugins mirror URL DIR`: copies a registry for offline use or re-hosting, verifying as it
// goes with the same checks a client makes: the whole root chain from version 1 up (which must
// pass through the root the user trusts), the timestamp, the index it pins, every publisher
// signature and every module hash. Files are copied byte for byte (signatures cover canonical JSON,
// but a mirror should serve exactly what was signed). timestamp.json is written last, so a client
// reading a mirror being refreshed sees either the old or the new consistent set.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "./canonical-json.ts";
import { RegistryClient } from "./client.ts";
import { resolveRegistryConfig, type RegistryOptions } from "./config.ts";
import { CAPS } from "./download.ts";
import { RegistryError } from "./errors.ts";
import { configuredRegistries, openConfigured } from "./sources.ts";
import { writeFileAtomic } from "./fsutil.ts";
import { LAYOUT } from "./layout.ts";
import type { RootSigned } from "./schema.ts";
import { parseRoot, verifyNextRoot, verifySelfSignedRoot } from "./verify.ts";

export interface MirrorResult {
  rootVersion: number;
  indexVersion: number;
  modules: number;
  bytes: number;
}

export async function mirrorRegistry(url: string, dir: string, opts: RegistryOptions = {}): Promise<MirrorResult> {
  // A configured registry (by name or address) brings its pinned root; any other URL needs IMGB_REGISTRY_ROOT.
  const configured = (await configuredRegistries({ env: opts.env ?? process.env })).find((c) => c.origin !== "environment" && (c.name === url || c.url === url.replace(/\/+$/, "")));
  const config = configured ? await openConfigured(configured, opts) : await resolveRegistryConfig({ ...opts, url });
  const client = new RegistryClient(config);
  const where = { registry: config.url };
  const meta = await client.refresh();

  // The full root history, each step chained to the previous one.
  const roots: Uint8Array[] = [];
  let prev: RootSigned | undefined;
  let sawTrusted = false;
  const trustedText = canonicalJson(config.trustedRoot.signed);
  for (let n = 1; n <= meta.root.version; n++) {
    const bytes = await config.transport.get(LAYOUT.versionedRoot(n), CAPS.root, `root version ${n}`, where);
    if (bytes === undefined) throw new RegistryError("not-found", `root version ${n} is missing; a mirror needs the whole root history`, where);
    const env = parseRoot(bytes, `root version ${n}`, where);
    prev = prev === undefined ? verifySelfSignedRoot(env, `root version ${n}`, where) : verifyNextRoot(prev, env, where);
    if (canonicalJson(prev) === trustedText) sawTrusted = true;
    roots.push(bytes);
  }
  if (!sawTrusted || prev === undefined || canonicalJson(prev) !== canonicalJson(meta.root)) {
    throw new RegistryError("bad-signature", `the registry's root history does not pass through the trusted root (${config.rootSource})`, where);
  }

  await mkdir(join(dir, "blobs"), { recursive: true });
  let modules = 0;
  let bytes = 0;
  for (const [name, plugin] of Object.entries(meta.index.plugins)) {
    for (const version of Object.keys(plugin.versions)) {
      const pv = client.entry(meta.index, name, version);
      const wasm = await client.fetchWasm(pv);
      await writeFileAtomic(join(dir, LAYOUT.blob(pv.wasm.sha256)), wasm.bytes);
      modules++;
      bytes += wasm.bytes.byteLength;
    }
  }
  for (const [i, r] of roots.entries()) await writeFileAtomic(join(dir, LAYOUT.versionedRoot(i + 1)), r);
  const latest = roots[roots.length - 1];
  if (latest) await writeFileAtomic(join(dir, LAYOUT.root), latest);
  await writeFileAtomic(join(dir, LAYOUT.versionedIndex(meta.index.version)), meta.indexBytes);
  await writeFileAtomic(join(dir, LAYOUT.timestamp), meta.timestampBytes);
  return { rootVersion: meta.root.version, indexVersion: meta.index.version, modules, bytes };
}
