// OCI registries as a transport for an imgb registry: `oci://HOST/REPOSITORY`. The registry's files
// (docs/registry.md "Layout") become OCI artifacts in one repository, spoken to with the distribution
// API over HTTP (fetch):
//   - every metadata file (`1.root.json`, `root.json`, `7.index.json`, `timestamp.json`) is a manifest
//     tagged with the file's name (valid tags: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}), artifactType
//     ARTIFACT_TYPE, an empty config and exactly one layer of mediaType FILE_MEDIA_TYPE holding the
//     file's bytes;
//   - every plugin module is a blob addressed by its sha256 (the one the signed index names), kept
//     alive by a manifest tagged `wasm-<sha256>` whose single layer is the module (WASM_MEDIA_TYPE).
// Nothing is trusted because the OCI registry served it: the bytes go through the same verification
// chain as the static-file registry. This layer only adds transport checks of its own: manifests and
// blobs are capped before and while reading, a blob must hash to its digest, a module's layer must be
// the digest the index signed, and redirects may not leave the registry's host (blob downloads may go
// to another host over https, as Docker Hub and GHCR send them to a CDN, without credentials).
// Hosts on loopback (127.0.0.0/8, ::1, localhost) are spoken to over http; every other host over https.
import * as v from "valibot";
import { CAPS, DEFAULT_TIMING, DownloadClock, readBodyCapped, type Timing } from "./download.ts";
import { RegistryError } from "./errors.ts";
import { basicAuth, credentialsFor, type Credentials } from "./credentials.ts";
import { sha256Hex } from "./hashing.ts";

export const ARTIFACT_TYPE = "application/vnd.imgb.registry.v1";
export const FILE_MEDIA_TYPE = "application/vnd.imgb.registry.file.v1+json";
export const WASM_MEDIA_TYPE = "application/wasm";
const MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json";
const EMPTY_JSON = new TextEncoder().encode("{}");
const EMPTY_DIGEST = `sha256:${sha256Hex(EMPTY_JSON)}`;
const MAX_REDIRECTS = 5;

type Where = { registry: string; plugin?: string };

const Descriptor = v.looseObject({
  mediaType: v.string(),
  digest: v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/)),
  size: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
});
const Manifest = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  artifactType: v.optional(v.string()),
  config: Descriptor,
  layers: v.array(Descriptor),
});

export interface OciAddress {
  host: string;
  repository: string;
  /** "http" on loopback, "https" elsewhere. */
  scheme: "http" | "https";
}

export function parseOciUrl(url: string): OciAddress | undefined {
  const m = /^oci:\/\/([^/@]+)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)\/?$/.exec(url);
  if (!m) return undefined;
  const host = m[1]!;
  const hostname = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  const loopback = hostname === "localhost" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  return { host, repository: m[2]!, scheme: loopback ? "http" : "https" };
}

/** The tag a registry file lives under. */
export function tagFor(file: string): string {
  const blob = /^blobs\/([0-9a-f]{64})\.wasm$/.exec(file);
  if (blob) return `wasm-${blob[1]}`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(file)) throw new RegistryError("usage", `registry file ${file} has no OCI tag form`);
  return file;
}

interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(basic|bearer)\b(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/([a-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/gi)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? "";
  return { scheme: m[1]!.toLowerCase() as "basic" | "bearer", params };
}

export interface OciOptions {
  timing?: Timing;
  env?: Record<string, string | undefined>;
  /** Credentials to use instead of looking them up (tests, `registry push --username`). */
  credentials?: Credentials;
}

export class OciClient {
  readonly address: OciAddress;
  /** What messages call this registry (never with credentials). */
  readonly display: string;
  private readonly base: string;
  private readonly timing: Timing;
  private authorization: string | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;

  constructor(url: string, private readonly opts: OciOptions = {}) {
    const a = parseOciUrl(url);
    if (!a) throw new RegistryError("usage", `${JSON.stringify(url)} is not an OCI registry address: expected oci://HOST[:PORT]/REPOSITORY (lowercase repository path)`);
    this.address = a;
    this.display = `oci://${a.host}/${a.repository}`;
    this.base = `${a.scheme}://${a.host}/v2/${a.repository}`;
    this.timing = opts.timing ?? DEFAULT_TIMING;
  }

  private creds(): Promise<Credentials | undefined> {
    this.credentials ??= this.opts.credentials ? Promise.resolve(this.opts.credentials) : credentialsFor(this.address.host, this.opts.env ?? process.env);
    return this.credentials;
  }

  /**
   * One request with the registry's auth dance: on 401, answer a Basic challenge with the
   * credentials, or a Bearer challenge by fetching a token from its realm (with the credentials, if
   * any), then retry once. Redirects are followed by hand so none leaves the host unnoticed.
   */
  private async request(
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: Uint8Array; scope: "pull" | "pull,push"; blob?: boolean; clock: DownloadClock; what: string; where: Where },
  ): Promise<Response> {
    let res = await this.send(method, url, init);
    if (res.status === 401) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get("www-authenticate"), init.scope, init.clock, init.where, init.what);
      res = await this.send(method, url, init);
      if (res.status === 401) {
        await res.body?.cancel();
        throw new RegistryError("unreachable", `${init.what}: the registry refused the credentials (HTTP 401); log in with "podman login ${this.address.host}" or "docker login ${this.address.host}"`, init.where);
      }
    }
    return res;
  }

  private async send(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array; blob?: boolean; clock: DownloadClock; what: string; where: Where }): Promise<Response> {
    let target = url;
    const origin = new URL(url).origin;
    for (let hop = 0; ; hop++) {
      const sameOrigin = new URL(target).origin === origin;
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (sameOrigin && this.authorization) headers.authorization = this.authorization;
      let res: Response;
      try {
        res = await fetch(target, { method, headers, ...(init.body ? { body: init.body } : {}), redirect: "manual", signal: init.clock.signal });
      } catch (e) {
        throw new RegistryError("unreachable", `cannot reach ${this.display} for ${init.what}: ${init.clock.why(e)}`, init.where);
      }
      if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
      const location = res.headers.get("location");
      await res.body?.cancel();
      if (!location) throw new RegistryError("unreachable", `${init.what}: HTTP ${res.status} without a Location`, init.where);
      if (hop >= MAX_REDIRECTS) throw new RegistryError("unreachable", `${init.what}: more than ${MAX_REDIRECTS} redirects`, init.where);
      const next = new URL(location, target);
      if (next.origin !== origin) {
        // Only content-addressed blob reads may leave the host (a CDN), only over https; the
        // credentials stay behind (sameOrigin above).
        if (!(init.blob === true && method === "GET" && next.protocol === "https:")) {
          throw new RegistryError("redirect", `${init.what}: the registry redirected to another host (${next.origin}); refused`, init.where);
        }
      }
      target = next.toString();
    }
  }

  private async authenticate(header: string | null, scope: "pull" | "pull,push", clock: DownloadClock, where: Where, what: string): Promise<void> {
    const ch = parseChallenge(header);
    const creds = await this.creds();
    if (!ch) throw new RegistryError("unreachable", `${what}: the registry asks for authentication it does not describe (HTTP 401)`, where);
    if (ch.scheme === "basic") {
      if (!creds) throw new RegistryError("unreachable", `${what}: the registry needs a login (HTTP 401); log in with "podman login ${this.address.host}" or "docker login ${this.address.host}" (or set REGISTRY_AUTH_FILE)`, where);
      this.authorization = basicAuth(creds);
      return;
    }
    const realm = ch.params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) throw new RegistryError("unreachable", `${what}: bearer challenge without a usable realm`, where);
    const tokenUrl = new URL(realm);
    if (ch.params.service) tokenUrl.searchParams.set("service", ch.params.service);
    tokenUrl.searchParams.set("scope", `repository:${this.address.repository}:${scope}`);
    let res: Response;
    try {
      res = await fetch(tokenUrl, { headers: creds ? { authorization: basicAuth(creds) } : {}, redirect: "error", signal: clock.signal });
    } catch (e) {
      throw new RegistryError("unreachable", `${what}: cannot get a token from ${tokenUrl.origin}: ${clock.why(e)}`, where);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError("unreachable", `${what}: the token service ${tokenUrl.origin} answered HTTP ${res.status}${creds ? "" : " (no credentials found for this host)"}`, where);
    }
    const body = await readBodyCapped(res, CAPS.manifest, where, "token", clock);
    let token: unknown;
    try {
      const json = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
      token = json.token ?? json.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || token === "") throw new RegistryError("unreachable", `${what}: the token service answered without a token`, where);
    this.authorization = `Bearer ${token}`;
  }

  /** The bytes of a registry file, or undefined when the registry has no such tag or blob. */
  async get(file: string, cap: number, what: string, where: Where): Promise<Uint8Array | undefined> {
    const blob = /^blobs\/([0-9a-f]{64})\.wasm$/.exec(file);
    if (blob) return this.getBlob({ digest: `sha256:${blob[1]}`, size: undefined }, cap, what, where);
    const manifest = await this.getManifest(tagFor(file), what, where);
    if (!manifest) return undefined;
    if (manifest.artifactType !== undefined && manifest.artifactType !== ARTIFACT_TYPE) {
      throw new RegistryError("bad-document", `${what}: tag ${tagFor(file)} is an artifact of type ${manifest.artifactType}, not ${ARTIFACT_TYPE}`, where);
    }
    const layers = manifest.layers.filter((l) => l.mediaType === FILE_MEDIA_TYPE);
    if (manifest.layers.length !== 1 || layers.length !== 1) {
      throw new RegistryError("bad-document", `${what}: tag ${tagFor(file)} must hold exactly one ${FILE_MEDIA_TYPE} layer`, where);
    }
    const layer = layers[0]!;
    if (layer.size > cap) throw new RegistryError("too-large", `${what} is ${layer.size} bytes, over the limit of ${cap} bytes`, where);
    const bytes = await this.getBlob({ digest: layer.digest, size: layer.size }, cap, what, where);
    if (bytes === undefined) throw new RegistryError("not-found", `${what}: blob ${layer.digest} named by tag ${tagFor(file)} is missing`, where);
    return bytes;
  }

  private async getManifest(tag: string, what: string, where: Where): Promise<v.InferOutput<typeof Manifest> | undefined> {
    const clock = new DownloadClock(CAPS.manifest, this.timing);
    try {
      const res = await this.request("GET", `${this.base}/manifests/${tag}`, { headers: { accept: MANIFEST_MEDIA_TYPE }, scope: "pull", clock, what, where });
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new RegistryError("unreachable", `cannot fetch ${what} from ${this.display} (manifest ${tag}): HTTP ${res.status}`, where);
      }
      const bytes = await readBodyCapped(res, CAPS.manifest, where, `${what} manifest`, clock);
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
      } catch {
        throw new RegistryError("bad-document", `${what}: manifest ${tag} is not JSON`, where);
      }
      const r = v.safeParse(Manifest, json);
      if (!r.success) throw new RegistryError("bad-document", `${what}: manifest ${tag} is not an OCI image manifest`, where);
      return r.output;
    } finally {
      clock.stop();
    }
  }

  /** A blob, capped and checked against its digest (and size, when a manifest gave one). */
  private async getBlob(d: { digest: string; size: number | undefined }, cap: number, what: string, where: Where): Promise<Uint8Array | undefined> {
    const limit = d.size !== undefined ? Math.min(cap, d.size) : cap;
    const clock = new DownloadClock(limit, this.timing);
    try {
      const res = await this.request("GET", `${this.base}/blobs/${d.digest}`, { scope: "pull", blob: true, clock, what, where });
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new RegistryError("unreachable", `cannot fetch ${what} from ${this.display} (blob ${d.digest}): HTTP ${res.status}`, where);
      }
      const bytes = await readBodyCapped(res, limit, where, what, clock);
      const got = `sha256:${sha256Hex(bytes)}`;
      if (got !== d.digest || (d.size !== undefined && bytes.byteLength !== d.size)) {
        throw new RegistryError("mismatch", `${what}: blob ${d.digest.slice(0, 23)}… served ${bytes.byteLength} bytes hashing to ${got.slice(0, 23)}… (tampered in the OCI registry)`, where);
      }
      return bytes;
    } finally {
      clock.stop();
    }
  }

  // ---- publishing ----

  private async pushBlob(bytes: Uint8Array, what: string, where: Where): Promise<string> {
    const digest = `sha256:${sha256Hex(bytes)}`;
    const clock = new DownloadClock(bytes.byteLength, this.timing);
    try {
      const head = await this.request("HEAD", `${this.base}/blobs/${digest}`, { scope: "pull,push", clock, what, where });
      await head.body?.cancel();
      if (head.ok) return digest;
      const start = await this.request("POST", `${this.base}/blobs/uploads/`, { scope: "pull,push", clock, what, where });
      await start.body?.cancel();
      const location = start.headers.get("location");
      if (start.status !== 202 || !location) throw new RegistryError("unreachable", `${what}: upload to ${this.display} refused (HTTP ${start.status})`, where);
      const put = new URL(location, this.base);
      put.searchParams.set("digest", digest);
      const done = await this.request("PUT", put.toString(), { headers: { "content-type": "application/octet-stream" }, body: bytes, scope: "pull,push", clock, what, where });
      await done.body?.cancel();
      if (done.status !== 201) throw new RegistryError("unreachable", `${what}: upload to ${this.display} failed (HTTP ${done.status})`, where);
      return digest;
    } finally {
      clock.stop();
    }
  }

  /** Pushes one registry file as its tag (metadata) or blob + keep-alive tag (module). */
  async put(file: string, bytes: Uint8Array, where: Where): Promise<void> {
    const isWasm = /^blobs\/[0-9a-f]{64}\.wasm$/.test(file);
    const digest = await this.pushBlob(bytes, file, where);
    await this.pushBlob(EMPTY_JSON, "empty config", where);
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_MEDIA_TYPE,
        artifactType: ARTIFACT_TYPE,
        config: { mediaType: EMPTY_MEDIA_TYPE, digest: EMPTY_DIGEST, size: EMPTY_JSON.byteLength },
        layers: [{ mediaType: isWasm ? WASM_MEDIA_TYPE : FILE_MEDIA_TYPE, digest, size: bytes.byteLength, annotations: { "org.opencontainers.image.title": file } }],
      }),
    );
    const clock = new DownloadClock(manifest.byteLength, this.timing);
    try {
      const res = await this.request("PUT", `${this.base}/manifests/${tagFor(file)}`, { headers: { "content-type": MANIFEST_MEDIA_TYPE }, body: manifest, scope: "pull,push", clock, what: file, where });
      const text = await res.text().catch(() => "");
      if (res.status !== 201) throw new RegistryError("unreachable", `${file}: manifest push to ${this.display} failed (HTTP ${res.status}) ${text.slice(0, 200)}`, where);
    } finally {
      clock.stop();
    }
  }
}
