// An imgb registry carried by a real OCI registry (Debian's docker-registry on loopback): pushed with
// `pushRegistry`, installed from with `imgb init`'s code, with and without htpasswd auth; and the
// attacks on the OCI path, each refused with a registry error code: a tampered blob, a tag whose
// manifest points at another digest, a replayed older timestamp, oversized blobs, redirects to
// another host. Tampering in transit is played by a proxy on loopback in front of the real registry.
// Credentials also come from docker credential helpers (credHelpers, credsStore) run from PATH.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { initPlugins } from "../../core/registry/init.ts";
import { LAYOUT } from "../../core/registry/layout.ts";
import { OciClient } from "../../core/registry/oci.ts";
import { pushRegistry } from "../../core/registry/push.ts";
import { readLock } from "../../core/registry/lock.ts";
import { sha256Hex } from "../../core/registry/hashing.ts";
import { startOciRegistry, startOciRegistryWithTokenAuth } from "../support/oci-registry.ts";
import { makeRegistry, refusal, required, TestUi, type TestRegistry } from "./harness.ts";

let oci: Awaited<ReturnType<typeof startOciRegistry>>;
let reg: TestRegistry;
let repo = 0;
let url: string;

beforeAll(async () => {
  oci = await startOciRegistry();
});
afterAll(async () => {
  await oci?.stop();
});
beforeEach(async () => {
  reg = await makeRegistry();
  url = `oci://${oci.host}/imgb/test${++repo}`;
});
afterEach(async () => {
  await reg.close();
});

const init = (registryUrl = url, o: { upgrade?: boolean; env?: Record<string, string> } = {}) =>
  initPlugins([required("acme/hello", ">= 1.0")], reg.templateDir, {
    upgrade: o.upgrade ?? false,
    acceptCapabilities: true,
    ui: new TestUi(),
    registry: { ...reg.client, url: registryUrl, ...(o.env ? { env: o.env } : {}) },
  });

/** A proxy in front of the real registry; `hook` may answer instead, or change the real answer. */
function proxy(hook: (path: string, real: () => Promise<Response>) => Promise<Response>): { url: string; stop(): Promise<void> } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      const real = () => fetch(`${oci.url}${u.pathname}${u.search}`, { method: req.method, headers: req.headers, redirect: "manual" });
      return hook(u.pathname, real);
    },
  });
  return { url: `oci://127.0.0.1:${server.port}/imgb/test${repo}`, stop: () => server.stop(true) };
}

describe("OCI registries as a transport", () => {
  test("published with push, installed by init: same module, lock names the oci:// address", async () => {
    const wasm = await reg.publish("acme/hello", "1.0.0", []);
    const pushed = await pushRegistry(reg.dir, url);
    expect(pushed.files).toBeGreaterThanOrEqual(5);
    const res = await init();
    expect(res[0]).toMatchObject({ name: "acme/hello", version: "1.0.0", action: "installed" });
    const lock = await readLock(reg.templateDir);
    expect(lock?.plugins["acme/hello"]).toMatchObject({ registry: url, sha256: sha256Hex(wasm) });
    // The OCI registry holds the files as artifacts of imgb's type.
    const manifest = await (await fetch(`${oci.url}/v2/imgb/test${repo}/manifests/timestamp.json`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json();
    expect(manifest).toMatchObject({ artifactType: "application/vnd.imgb.registry.v1", layers: [{ mediaType: "application/vnd.imgb.registry.file.v1+json" }] });
  });

  test("behind htpasswd auth: credentials from REGISTRY_AUTH_FILE; none is a clear error", async () => {
    const user = { username: "alice", password: "pw with spaces" };
    const secured = await startOciRegistry({ auth: user });
    try {
      await reg.publish("acme/hello", "1.0.0", []);
      const u = `oci://${secured.host}/imgb/plugins`;
      await refusal(pushRegistry(reg.dir, u, { env: {} }), "unreachable", /needs a login \(HTTP 401\)/);
      const authFile = join(reg.base, "auth.json");
      await writeFile(authFile, JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString("base64") } } }));
      await pushRegistry(reg.dir, u, { env: { REGISTRY_AUTH_FILE: authFile } });
      const msg = await refusal(init(u, { env: {} }), "unreachable", new RegExp(`registry oci://${secured.host}/imgb/plugins`), /log in with "podman login/);
      expect(msg).not.toContain(user.password);
      expect((await init(u, { env: { REGISTRY_AUTH_FILE: authFile } }))[0]).toMatchObject({ version: "1.0.0" });
      const wrong = join(reg.base, "wrong.json");
      await writeFile(wrong, JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from("alice:nope").toString("base64") } } }));
      await refusal(init(u, { upgrade: true, env: { REGISTRY_AUTH_FILE: wrong } }), "unreachable", /refused the credentials/);
    } finally {
      await secured.stop();
    }
  });
});

describe("docker credential helpers", () => {
  test("credHelpers and credsStore run docker-credential-NAME get with the host on stdin; not found, missing and failing helpers", async () => {
    const user = { username: "alice", password: "helper pw" };
    const secured = await startOciRegistry({ auth: user });
    try {
      await reg.publish("acme/hello", "1.0.0", []);
      const u = `oci://${secured.host}/imgb/plugins`;
      // A helper as docker-credential-helpers behave: the host on stdin, JSON on stdout, "credentials
      // not found" with status 1 for other hosts; it logs each host it was asked about.
      const bin = join(reg.base, "bin");
      await mkdir(bin);
      const asked = join(reg.base, "asked.log");
      await writeFile(
        join(bin, "docker-credential-imgbtest"),
        `#!/bin/sh\n[ "$1" = get ] || exit 2\nread -r host\necho "$host" >> ${asked}\nif [ "$host" = "${secured.host}" ]; then printf '{"ServerURL":"%s","Username":"${user.username}","Secret":"${user.password}"}' "$host"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
      );
      await writeFile(join(bin, "docker-credential-broken"), `#!/bin/sh\necho "keychain locked" >&2\nexit 3\n`);
      await chmod(join(bin, "docker-credential-imgbtest"), 0o755);
      await chmod(join(bin, "docker-credential-broken"), 0o755);
      const docker = async (name: string, config: object) => {
        const d = join(reg.base, name);
        await mkdir(d, { recursive: true });
        await writeFile(join(d, "config.json"), JSON.stringify(config));
        return { DOCKER_CONFIG: d, PATH: `${bin}:${process.env.PATH}` };
      };
      const perHost = await docker("per-host", { auths: { [secured.host]: {} }, credHelpers: { [secured.host]: "imgbtest" } });
      await pushRegistry(reg.dir, u, { env: perHost });
      expect((await init(u, { env: perHost }))[0]).toMatchObject({ version: "1.0.0" });
      expect((await readFile(asked, "utf8")).split("\n")).toContain(secured.host);
      // credsStore: the helper for every host.
      const store = await docker("store", { credsStore: "imgbtest" });
      expect((await init(u, { upgrade: true, env: store }))[0]).toMatchObject({ version: "1.0.0" });
      // A helper for another host only: its "not found" means no credentials, and the registry says it needs a login.
      const other = await docker("other", { credHelpers: { "registry.example.org": "broken" }, credsStore: "imgbtest" });
      await writeFile(join(bin, "docker-credential-imgbtest"), `#!/bin/sh\necho "credentials not found in native keychain"\nexit 1\n`);
      await refusal(init(u, { upgrade: true, env: other }), "unreachable", /needs a login|log in with/);
      // Failing and missing helpers are errors naming the helper, the host and the file; no secret shown.
      const broken = await docker("broken", { credHelpers: { [secured.host]: "broken" } });
      const msg = await refusal(init(u, { upgrade: true, env: broken }), "usage", new RegExp(`credential helper docker-credential-broken \\(named in .*config\\.json\\) for ${secured.host.replace(/\./g, "\\.")}: exited with status 3: keychain locked`));
      expect(msg).not.toContain(user.password);
      const missing = await docker("missing", { credsStore: "nowhere" });
      await refusal(init(u, { upgrade: true, env: missing }), "usage", /credential helper docker-credential-nowhere .* not found on PATH/);
    } finally {
      await secured.stop();
    }
  });
});

describe("bearer token auth", () => {
  test("a Bearer challenge is answered with a token from its realm (credentials from ~/.docker/config.json); wrong ones are a clear error", async () => {
    const user = { username: "bob", password: "token pass" };
    const secured = await startOciRegistryWithTokenAuth(user);
    try {
      await reg.publish("acme/hello", "1.0.0", []);
      const u = `oci://${secured.host}/imgb/plugins`;
      const home = join(reg.base, "home");
      await mkdir(join(home, ".docker"), { recursive: true });
      await writeFile(join(home, ".docker", "config.json"), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString("base64") } } }));
      await pushRegistry(reg.dir, u, { env: { HOME: home } });
      expect((await init(u, { env: { HOME: home } }))[0]).toMatchObject({ version: "1.0.0", action: "installed" });
      expect(secured.tokenRequests()).toBeGreaterThanOrEqual(2);
      await refusal(init(u, { upgrade: true, env: { HOME: join(reg.base, "nobody") } }), "unreachable", /the token service http:\/\/127\.0\.0\.1:\d+ answered HTTP 401 \(no credentials found for this host\)/);
    } finally {
      await secured.stop();
    }
  });
});

describe("attacks on the OCI path", () => {
  test("a tampered blob is refused (its bytes do not hash to its digest)", async () => {
    const wasm = await reg.publish("acme/hello", "1.0.0", []);
    await pushRegistry(reg.dir, url);
    const p = proxy(async (path, real) => {
      const res = await real();
      if (!path.endsWith(`/blobs/sha256:${sha256Hex(wasm)}`)) return res;
      const bytes = new Uint8Array(await res.arrayBuffer());
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      return new Response(bytes, { status: res.status });
    });
    try {
      await refusal(init(p.url), "mismatch", /tampered in the OCI registry/);
      expect(await readLock(reg.templateDir)).toBeUndefined();
    } finally {
      await p.stop();
    }
  });

  test("a tag whose manifest points at another digest (a genuine file of another role) is refused by the chain", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await pushRegistry(reg.dir, url);
    // Someone with push rights re-points timestamp.json at the (signed, genuine) root file.
    await new OciClient(url).put(LAYOUT.timestamp, await readFile(join(reg.dir, LAYOUT.versionedRoot(1))), { registry: url });
    await refusal(init(), "bad-document", /timestamp is malformed/);
  });

  test("a replayed older timestamp and index are refused once newer ones were seen", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const oldTs = await readFile(join(reg.dir, LAYOUT.timestamp));
    await reg.publish("acme/hello", "1.1.0", []);
    await pushRegistry(reg.dir, url);
    await init();
    await new OciClient(url).put(LAYOUT.timestamp, oldTs, { registry: url });
    await refusal(init(url, { upgrade: true }), "rollback", /rollback attack/);
    expect((await readLock(reg.templateDir))?.plugins["acme/hello"]?.version).toBe("1.1.0");
  });

  test("oversized blobs: a metadata layer over its cap is refused before download; a module longer than signed is cut off", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await pushRegistry(reg.dir, url);
    await new OciClient(url).put(LAYOUT.timestamp, new Uint8Array(100 * 1024).fill(0x20), { registry: url });
    await refusal(init(), "too-large", /timestamp is 102400 bytes, over the limit of 65536 bytes/);

    const other = await makeRegistry();
    try {
      const wasm = await other.publish("acme/hello", "1.0.0", []);
      await pushRegistry(other.dir, url);
      const p = proxy(async (path, real) => {
        const res = await real();
        if (!path.endsWith(`/blobs/sha256:${sha256Hex(wasm)}`)) return res;
        const extra = new Uint8Array(wasm.byteLength + 4096);
        extra.set(wasm);
        return new Response(new ReadableStream({ start: (c) => (c.enqueue(extra), c.close()) }), { status: 200 });
      });
      try {
        await refusal(
          initPlugins([required("acme/hello", ">= 1.0")], other.templateDir, { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: { ...other.client, url: p.url } }),
          "too-large",
          /exceeds the limit of \d+ bytes \(download stopped\)/,
        );
      } finally {
        await p.stop();
      }
    } finally {
      await other.close();
    }
  });

  test("a redirect to another host is refused (manifests always; blobs unless https, never with credentials)", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await pushRegistry(reg.dir, url);
    const elsewhere = Bun.serve({ hostname: "127.0.0.2", port: 0, fetch: () => new Response("{}") });
    const redirectWhen = (match: (path: string) => boolean) =>
      proxy(async (path, real) => (match(path) ? new Response(null, { status: 307, headers: { location: `http://127.0.0.2:${elsewhere.port}${path}` } }) : real()));
    const manifests = redirectWhen((path) => path.includes("/manifests/"));
    const blobs = redirectWhen((path) => path.includes("/blobs/"));
    try {
      await refusal(init(manifests.url), "redirect", /redirected to another host \(http:\/\/127\.0\.0\.2:\d+\); refused/);
      await refusal(init(blobs.url), "redirect", /redirected to another host/);
    } finally {
      await manifests.stop();
      await blobs.stop();
      await elsewhere.stop(true);
    }
  });
});
