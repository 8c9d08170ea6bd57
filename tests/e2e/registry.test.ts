// The registry as a user meets it, through the compiled binary and nothing else: a registry made
// with `imgb registry keygen|init|trust-publisher|sign|publish`, published to a static folder and
// pushed to a real OCI registry (Debian's docker-registry on loopback, behind htpasswd auth with the
// login in ~/.docker/config.json); a user adds it with `imgb registry add` and runs `imgb init` then
// `imgb build` on a template that requires github.com/acme/motd — with no IMGB_* variable set.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compilePlugin } from "../../plugins-wasm/build.ts";
import { runImgb, type RunResult } from "../support/binary.ts";
import { startOciRegistry } from "../support/oci-registry.ts";

const WASM = join(import.meta.dir, "..", ".tmp", "plugins", "registry-acme-motd.wasm");
const USER = { username: "publisher", password: "s3cret pass" };
let base: string;
let reg: string;
let oci: Awaited<ReturnType<typeof startOciRegistry>>;

/** The binary with a HOME of its own and no imgb or XDG variable from the test's environment. */
function envFor(home: string): Record<string, string> {
  return { HOME: home, XDG_CONFIG_HOME: "", XDG_STATE_HOME: "", XDG_CACHE_HOME: "", IMGB_REGISTRY_URL: "", IMGB_REGISTRY_ROOT: "", REGISTRY_AUTH_FILE: "", DOCKER_CONFIG: "", XDG_RUNTIME_DIR: "" };
}

async function imgb(args: string[], home: string, cwd = base): Promise<RunResult> {
  return runImgb(args, { cwd, env: envFor(home), timeoutMs: 60_000 });
}

function ok(r: RunResult): RunResult {
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

async function newHome(name: string, dockerAuth = false): Promise<string> {
  const home = join(base, name);
  await mkdir(home, { recursive: true });
  if (dockerAuth) {
    await mkdir(join(home, ".docker"), { recursive: true });
    const auth = Buffer.from(`${USER.username}:${USER.password}`).toString("base64");
    await writeFile(join(home, ".docker", "config.json"), JSON.stringify({ auths: { [oci.host]: { auth } } }));
  }
  return home;
}

const TEMPLATE = `packer {
  required_plugins {
    motd = {
      source  = "github.com/acme/motd"
      version = "~> 1.0"
    }
  }
}

source "null" "box" {
  communicator = "none"
}

build {
  sources = ["source.null.box"]
  provisioner "motd" {
    message = "installed from a registry"
  }
}
`;

async function template(name: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "t.pkr.hcl"), TEMPLATE);
  return dir;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "imgb-e2e-registry-"));
  await compilePlugin(join(import.meta.dir, "..", "registry", "fixtures", "motd", "assembly", "plugin.ts"), WASM);
  oci = await startOciRegistry({ auth: USER });
  const keys = join(base, "keys");
  await mkdir(keys, { recursive: true });
  const admin = await newHome("admin", true);
  for (const k of ["root", "index", "timestamp", "publisher"]) ok(await imgb(["registry", "keygen", join(keys, k)], admin));
  reg = join(base, "reg");
  const signers = ["--index-key", join(keys, "index.key"), "--timestamp-key", join(keys, "timestamp.key")];
  ok(await imgb(["registry", "init", reg, "--root-key", join(keys, "root.key"), ...signers], admin));
  ok(await imgb(["registry", "trust-publisher", reg, "--key", join(keys, "publisher.pub"), "--namespace", "acme", ...signers], admin));
  const wasm = join(base, "motd.wasm");
  await writeFile(wasm, await readFile(WASM));
  ok(await imgb(["registry", "sign", wasm, "--name", "acme/motd", "--version", "1.0.0", "--key", join(keys, "publisher.key")], admin));
  const published = ok(
    await imgb(["registry", "publish", reg, "--wasm", wasm, "--statement", join(base, "motd.statement.json"), "--reviewer", "r@example.org", "--repository", "https://example.org/acme/motd", "--commit", "0123456789abcdef", "--push", `oci://${oci.host}/imgb/plugins`, ...signers], admin),
  );
  expect(published.stdout).toContain("PASS statement: name, version and capabilities match (provisioner)");
  expect(published.stdout).toContain(`Pushed ${reg} to oci://${oci.host}/imgb/plugins`);
  // `registry push` alone copies the folder again (nothing new to upload).
  expect(ok(await imgb(["registry", "push", reg, `oci://${oci.host}/imgb/plugins`], admin)).stdout).toContain("timestamp last");
}, 120_000);

afterAll(async () => {
  await oci?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

describe("a registry a user can install from", () => {
  for (const kind of ["static folder", "OCI registry"] as const) {
    test(`${kind}: registry add, then init and build a template requiring github.com/acme/motd`, async () => {
      const home = await newHome(`user-${kind === "OCI registry" ? "oci" : "static"}`, kind === "OCI registry");
      const url = kind === "OCI registry" ? `oci://${oci.host}/imgb/plugins` : `file://${reg}`;
      ok(await imgb(["registry", "add", "acme", url, "--root", join(reg, "1.root.json")], home));
      const list = ok(await imgb(["registry", "list"], home));
      expect(list.stdout).toContain(`acme ${url} root`);
      const dir = await template(`t-${home.slice(-6)}`);
      const init = ok(await imgb(["init", "t.pkr.hcl"], home, dir));
      expect(init.stdout).toContain("github.com/acme/motd: 1.0.0 installed from registry acme");
      const lock = JSON.parse(await readFile(join(dir, ".imgb.lock.json"), "utf8")) as { plugins: Record<string, { registry: string }> };
      expect(lock.plugins["acme/motd"]?.registry).toBe(url);
      const build = ok(await imgb(["build", "-color=false", "t.pkr.hcl"], home, dir));
      expect(build.stdout).toContain("motd: installed from a registry");
      // A second init needs nothing new.
      expect(ok(await imgb(["init", "t.pkr.hcl"], home, dir)).stdout).toContain("1.0.0 kept");
      // The configured registry, by name, mirrors to a folder for offline use.
      const mirror = ok(await imgb(["plugins", "mirror", "acme", join(dir, "offline")], home, dir));
      expect(mirror.stdout).toContain("1 module(s)");
      expect(await readFile(join(dir, "offline", "timestamp.json"), "utf8")).toBe(await readFile(join(reg, "timestamp.json"), "utf8"));
    }, 60_000);
  }

  test("first contact without a pin is refused with the command that pins it; --root-sha256 pins it", async () => {
    const home = await newHome("user-pin", true);
    const url = `oci://${oci.host}/imgb/plugins`;
    const r = await imgb(["registry", "add", "acme", url], home);
    expect(r.exitCode).toBe(1);
    const m = /imgb registry add acme (\S+) --root-sha256 ([0-9a-f]{64})/.exec(r.stderr);
    expect(m?.[1]).toBe(url);
    expect(m?.[2]).toBe(new Bun.CryptoHasher("sha256").update(await readFile(join(reg, "1.root.json"))).digest("hex"));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain(USER.password);
    ok(await imgb(["registry", "add", "acme", url, "--root-sha256", m?.[2] ?? ""], home));
    const dir = await template("t-pin");
    ok(await imgb(["init", "t.pkr.hcl"], home, dir));
    expect(ok(await imgb(["build", "-color=false", "t.pkr.hcl"], home, dir)).stdout).toContain("motd: installed from a registry");
    const wrong = await imgb(["registry", "add", "other", url, "--root-sha256", "0".repeat(64)], home);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain("not the pinned");
  }, 60_000);

  test("the OCI registry without credentials: a clear error naming the host and how to log in", async () => {
    const home = await newHome("user-nologin");
    const r = await imgb(["registry", "add", "acme", `oci://${oci.host}/imgb/plugins`, "--root", join(reg, "1.root.json")], home);
    ok(r);
    const dir = await template("t-nologin");
    const init = await imgb(["init", "t.pkr.hcl"], home, dir);
    expect(init.exitCode).toBe(1);
    expect(init.stderr).toContain(`registry oci://${oci.host}/imgb/plugins`);
    expect(init.stderr).toMatch(/needs a login \(HTTP 401\); log in with "podman login/);
  }, 60_000);

  test("a plugin nothing provides: the error names it and what imgb can do", async () => {
    const home = await newHome("user-none");
    const dir = join(base, "t-none");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "t.pkr.hcl"), TEMPLATE.replace("github.com/acme/motd", "github.com/acme/absent"));
    const r = await imgb(["init", "t.pkr.hcl"], home, dir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("plugin github.com/acme/absent: required as \"motd\" (~> 1.0), but nothing provides it");
    expect(r.stderr).toContain("built into imgb");
    expect(r.stderr).toContain('imgb registry add NAME URL --root FILE');
  }, 30_000);
});
