// The citty verbs in real processes: a registry made with `imgb registry ...`, served over HTTP,
// consumed with `imgb plugins ...`; and a mirror of it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveRegistry, type RegistryServer } from "../../core/registry/serve.ts";
import { LAYOUT } from "../../core/registry/layout.ts";
import { sha256Hex } from "../../core/registry/hashing.ts";
import { tinyWasm } from "./harness.ts";
import { compilePlugin } from "../../plugins-wasm/build.ts";

// A real plugin (publish vets it: it must describe itself as its statement says).
const HELLO_WASM = join(import.meta.dir, "..", ".tmp", "plugins", "registry-acme-hello.wasm");
let hello: Uint8Array;

const BUN = process.execPath;
const RUN = join(import.meta.dir, "fixtures", "run-verb.ts");
let base: string;
let server: RegistryServer;
let env: Record<string, string>;

async function imgb(args: string[], extraEnv: Record<string, string> = {}) {
  const p = Bun.spawn([BUN, RUN, ...args], { env: { ...env, ...extraEnv }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "imgb-registry-cli-"));
  env = { PATH: process.env.PATH ?? "", HOME: join(base, "home"), XDG_STATE_HOME: join(base, "state"), XDG_CACHE_HOME: join(base, "cache") };
  for (const k of ["root", "index", "timestamp", "acme"]) {
    const r = await imgb(["registry", "keygen", join(base, k)]);
    expect(r.code).toBe(0);
  }
  const reg = join(base, "reg");
  const signers = ["--index-key", join(base, "index.key"), "--timestamp-key", join(base, "timestamp.key")];
  expect((await imgb(["registry", "init", reg, "--root-key", join(base, "root.key"), ...signers])).code).toBe(0);
  expect((await imgb(["registry", "trust-publisher", reg, "--key", join(base, "acme.pub"), "--namespace", "acme", ...signers])).code).toBe(0);
  await compilePlugin(join(import.meta.dir, "fixtures", "hello", "assembly", "plugin.ts"), HELLO_WASM);
  hello = new Uint8Array(await readFile(HELLO_WASM));
  await writeFile(join(base, "hello.wasm"), hello);
  const signed = await imgb(["registry", "sign", join(base, "hello.wasm"), "--name", "acme/hello", "--version", "1.0.0", "--capabilities", "local_exec", "--key", join(base, "acme.key")]);
  expect(signed.code).toBe(0);
  const vet = ["--reviewer", "r@example.org", "--repository", "https://example.org/acme/hello", "--commit", "abcdef1", "--note", "writes one marker file the test reads"];
  const pub = await imgb(["registry", "publish", reg, "--wasm", join(base, "hello.wasm"), "--statement", join(base, "hello.statement.json"), ...vet, ...signers]);
  expect(pub.stderr).toBe("");
  expect(pub.code).toBe(0);
  server = await serveRegistry(reg);
  env.IMGB_REGISTRY_URL = server.url;
  env.IMGB_REGISTRY_ROOT = join(reg, "1.root.json");
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rm(base, { recursive: true, force: true });
});

describe("imgb registry / imgb plugins", () => {
  test("install without a terminal or -accept-capabilities is refused with the reason", async () => {
    const r = await imgb(["plugins", "install", "acme/hello"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("plugin acme/hello 1.0.0: needs your approval for capabilities local_exec, but there is no terminal to ask on; re-run with -accept-capabilities");
    expect(r.stderr).not.toContain("    at ");
  });

  test("install, installed, verify, remove", async () => {
    const i = await imgb(["plugins", "install", "acme/hello@>= 1.0", "--accept-capabilities"]);
    expect(i.code).toBe(0);
    expect(i.stdout).toContain("+ local_exec");
    const list = await imgb(["plugins", "installed"]);
    expect(list.stdout).toContain(`acme/hello 1.0.0 signed sha256:${sha256Hex(hello).slice(0, 16)} capabilities:local_exec`);
    expect((await imgb(["plugins", "verify"])).stdout).toContain("acme/hello 1.0.0: ok");
    const cached = join(base, "cache", "imgb", "plugins", "sha256", `${sha256Hex(hello)}.wasm`);
    expect((await readFile(cached)).byteLength).toBeGreaterThan(8);
    expect((await imgb(["plugins", "remove", "acme/hello"])).code).toBe(0);
    expect((await imgb(["plugins", "installed"])).stdout).toBe("No plugins installed.\n");
  });

  test("a local .wasm needs --allow-unsigned and is recorded as unsigned", async () => {
    const file = join(base, "local.wasm");
    await writeFile(file, tinyWasm("local"));
    const refused = await imgb(["plugins", "install", file, "--name", "me/local"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("is a local file: it has no publisher signature and no vetting record; pass --allow-unsigned");
    const ok = await imgb(["plugins", "install", file, "--name", "me/local", "--version", "0.1.0", "--allow-unsigned", "--capabilities", "temp_file", "--accept-capabilities"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("is UNSIGNED");
    expect((await imgb(["plugins", "installed"])).stdout).toContain("me/local 0.1.0 UNSIGNED");
    expect((await imgb(["plugins", "remove", "me/local"])).code).toBe(0);
  });

  test("mirror copies and verifies; the mirror serves clients; a tampered source is refused", async () => {
    const dest = join(base, "mirror");
    const m = await imgb(["plugins", "mirror", server.url, dest]);
    expect(m.stderr).toBe("");
    expect(m.stdout).toContain("1 module(s)");
    const mirrorServer = await serveRegistry(dest);
    try {
      const i = await imgb(["plugins", "install", "acme/hello", "--accept-capabilities"], { IMGB_REGISTRY_URL: mirrorServer.url, XDG_CACHE_HOME: join(base, "cache-m") });
      expect(i.code).toBe(0);
      // file:// works as well, for a mirror on a disk.
      const f = await imgb(["plugins", "install", "acme/hello", "--accept-capabilities", "--upgrade"], { IMGB_REGISTRY_URL: `file://${dest}`, XDG_CACHE_HOME: join(base, "cache-f") });
      expect(f.stderr).toBe("");
      expect(f.code).toBe(0);
    } finally {
      await mirrorServer.stop();
    }
    const blob = join(base, "reg", LAYOUT.blob(sha256Hex(hello)));
    const good = await readFile(blob);
    await writeFile(blob, new Uint8Array([...good.subarray(0, good.length - 1), (good[good.length - 1] ?? 0) ^ 1]));
    try {
      const bad = await imgb(["plugins", "mirror", server.url, join(base, "mirror2")], { XDG_CACHE_HOME: join(base, "cache-empty") });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`registry ${server.url}: plugin acme/hello 1.0.0: wasm sha256`);
    } finally {
      await writeFile(blob, good);
    }
  });

  test("registry tools refuse bad input with a plain message", async () => {
    const r = await imgb(["registry", "sign", join(base, "hello.wasm"), "--name", "../x", "--version", "1.0.0", "--key", join(base, "acme.key")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: invalid plugin name "../x": expected "namespace/name" of lowercase letters, digits and hyphens\n');
  });

  test("registry serve: static files on 127.0.0.1 until SIGTERM; no path escapes the folder", async () => {
    const p = Bun.spawn([BUN, RUN, "registry", "serve", join(base, "reg"), "--port", "0"], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    try {
      const reader = p.stdout.getReader();
      let text = "";
      while (!/http:\/\/127\.0\.0\.1:\d+/.test(text)) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(text)?.[0];
      expect(url).toBeDefined();
      const ts = await fetch(`${url}/timestamp.json`);
      expect(ts.status).toBe(200);
      expect(ts.headers.get("content-type")).toBe("application/json");
      expect(((await ts.json()) as { signed: { _type: string } }).signed._type).toBe("timestamp");
      expect((await fetch(`${url}/..%2f..%2fetc/passwd`)).status).toBe(400);
      expect((await fetch(`${url}/blobs`)).status).toBe(404);
      expect((await fetch(`${url}/timestamp.json`, { method: "POST" })).status).toBe(405);
      reader.releaseLock();
    } finally {
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    }
  });

  test("imgb init on a template that requires no plugins says so", async () => {
    const t = join(base, "t.json");
    await writeFile(t, JSON.stringify({ builders: [{ type: "null", communicator: "none" }] }));
    const r = await imgb(["init", t]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("The template requires no plugins; nothing to do.");
  });

  test("registry rotate-root: clients follow the chain to the new keys; the old index key is then refused", async () => {
    const reg = join(base, "reg");
    for (const k of ["root2", "index2"]) expect((await imgb(["registry", "keygen", join(base, k)])).code).toBe(0);
    const r = await imgb(["registry", "rotate-root", reg, "--old-root-key", join(base, "root.key"), "--root-key", join(base, "root2.key"), "--index-key", join(base, "index2.key"), "--timestamp-key", join(base, "timestamp.key")]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Root version 2 written");
    const i = await imgb(["plugins", "install", "acme/hello", "--accept-capabilities", "--upgrade"], { XDG_STATE_HOME: join(base, "state-rot"), XDG_CACHE_HOME: join(base, "cache-rot") });
    expect(i.stderr).toBe("");
    expect(i.code).toBe(0);
    // A stale publisher of the registry still holding the old index key can no longer publish for clients.
    const old = await imgb(["registry", "yank", reg, "--name", "acme/hello", "--version", "1.0.0", "--index-key", join(base, "index.key"), "--timestamp-key", join(base, "timestamp.key")]);
    expect(old.code).toBe(0);
    const refused = await imgb(["plugins", "install", "acme/hello", "--accept-capabilities", "--upgrade"], { XDG_STATE_HOME: join(base, "state-rot"), XDG_CACHE_HOME: join(base, "cache-rot") });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("index is signed only by unknown keys");
  });
});
