// How the client reaches a registry's files: a static-file registry (http://, https://, file://) or
// an OCI registry (oci://HOST/REPOSITORY, core/registry/oci.ts). Both hand back raw bytes, capped;
// what the bytes mean is checked by the verification chain alone (client.ts, verify.ts).
import { basicAuth, credentialsFor, splitUrlCredentials, type Credentials } from "./credentials.ts";
import { DEFAULT_TIMING, fetchCapped, registryFileUrl, type Timing } from "./download.ts";
import { RegistryError } from "./errors.ts";
import { OciClient } from "./oci.ts";

type Where = { registry: string; plugin?: string };

export interface RegistryTransport {
  /** The registry's address for messages and the lock file: never with credentials. */
  readonly display: string;
  /** A file of the registry layout (core/registry/layout.ts); undefined when it does not exist. */
  get(file: string, cap: number, what: string, where: Where): Promise<Uint8Array | undefined>;
}

export interface TransportOptions {
  timing?: Timing;
  env?: Record<string, string | undefined>;
  credentials?: Credentials;
}

class StaticTransport implements RegistryTransport {
  private auth: Promise<Record<string, string>> | undefined;
  constructor(
    readonly display: string,
    private readonly host: string | undefined,
    private readonly opts: TransportOptions,
  ) {}
  private headers(): Promise<Record<string, string>> {
    this.auth ??= (async (): Promise<Record<string, string>> => {
      if (this.display.startsWith("file://") || this.host === undefined) return {};
      const c = this.opts.credentials ?? (await credentialsFor(this.host, this.opts.env ?? process.env));
      return c ? { authorization: basicAuth(c) } : {};
    })();
    return this.auth;
  }
  async get(file: string, cap: number, what: string, where: Where): Promise<Uint8Array | undefined> {
    return fetchCapped(registryFileUrl(this.display, file), cap, where, what, this.opts.timing ?? DEFAULT_TIMING, await this.headers());
  }
}

class OciTransport implements RegistryTransport {
  private readonly client: OciClient;
  readonly display: string;
  constructor(url: string, opts: TransportOptions) {
    this.client = new OciClient(url, opts);
    this.display = this.client.display;
  }
  get(file: string, cap: number, what: string, where: Where): Promise<Uint8Array | undefined> {
    return this.client.get(file, cap, what, where);
  }
}

export function isRegistryUrl(url: string): boolean {
  return /^(https?|file|oci):\/\//.test(url);
}

/** The transport for a registry URL; `user:password@` in it is used, never shown or stored. */
export function transportFor(url: string, opts: TransportOptions = {}): RegistryTransport {
  if (!isRegistryUrl(url)) {
    throw new RegistryError("usage", `registry URL ${JSON.stringify(splitUrlCredentials(url).url)} must start with http://, https://, file:// or oci://`);
  }
  const split = splitUrlCredentials(url);
  const o = split.credentials ? { ...opts, credentials: split.credentials } : opts;
  const clean = split.url.replace(/\/+$/, "");
  if (clean.startsWith("oci://")) return new OciTransport(clean, o);
  return new StaticTransport(clean, split.host, o);
}
