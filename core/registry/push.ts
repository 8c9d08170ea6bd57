// `imgb registry push DIR oci://HOST/REPOSITORY`: copies a registry folder into an OCI registry
// (layout in core/registry/oci.ts). Modules, roots and index versions first, timestamp.json last, so
// a client pulling while a push runs sees either the old or the new consistent set. What is pushed
// is exactly the folder's bytes: the signatures travel with them, the OCI registry is only storage.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Credentials } from "./credentials.ts";
import { RegistryError } from "./errors.ts";
import { LAYOUT } from "./layout.ts";
import { OciClient } from "./oci.ts";

export async function pushRegistry(dir: string, url: string, opts: { env?: Record<string, string | undefined>; credentials?: Credentials } = {}): Promise<{ files: number; bytes: number; display: string }> {
  if (!url.startsWith("oci://")) throw new RegistryError("usage", `push needs an oci://HOST/REPOSITORY address (a static registry is the folder itself: copy it or "imgb registry serve" it)`);
  const client = new OciClient(url, { ...(opts.env ? { env: opts.env } : {}), ...(opts.credentials ? { credentials: opts.credentials } : {}) });
  const where = { registry: client.display };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new RegistryError("usage", `cannot read registry folder ${dir}: ${(e as Error).message}`);
  }
  if (!names.includes(LAYOUT.timestamp)) throw new RegistryError("usage", `${dir} has no ${LAYOUT.timestamp}: is it a registry folder? (see "imgb registry init")`);
  const blobs = (await readdir(join(dir, "blobs")).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}\.wasm$/.test(n)).map((n) => `blobs/${n}`);
  const meta = names.filter((n) => /^\d+\.(root|index)\.json$/.test(n) || n === LAYOUT.root).sort();
  let bytes = 0;
  const files = [...blobs, ...meta, LAYOUT.timestamp];
  for (const f of files) {
    const data = new Uint8Array(await readFile(join(dir, f)));
    await client.put(f, data, where);
    bytes += data.byteLength;
  }
  return { files: files.length, bytes, display: client.display };
}
