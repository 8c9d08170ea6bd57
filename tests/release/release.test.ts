// `npm run release` end to end: every target's binary, SHA256SUMS signed with a test release key,
// reproducible bytes, install.sh (run by dash) against a loopback HTTP server, tampering refused, the
// .deb installed with dpkg, the Homebrew formula, the arm64 binary under qemu-user (version, validate
// and a build that runs WASM plugins in the sandbox), the Windows and macOS file formats, and
// `imgb self-update` (upgrade, --check, downgrade and tampering refused).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generateKey, signBytes } from "../../core/registry/keys.ts";
import { binaryName } from "../../core/release/manifest.ts";
import { IMGB_VERSION } from "../../core/version.ts";

const REPO = resolve(import.meta.dir, "../..");
const BUN = process.execPath;
const work = mkdtempSync(join(tmpdir(), "imgb-release-"));
const keyFile = join(work, "release.key");
const relA = join(work, "a");
const relB = join(work, "b");
const NEXT = "99.0.0";

/** Loopback server over the release folders; `overrides` serves other bytes for a path (tampering). */
const overrides = new Map<string, Uint8Array>();
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const forged = overrides.get(path);
    if (forged) return new Response(forged);
    const [, folder, name] = /^\/(a|b)\/([^/]+)$/.exec(path) ?? [];
    const file = folder && name ? join(work, folder, name) : "";
    return file && existsSync(file) ? new Response(Bun.file(file)) : new Response("not found", { status: 404 });
  },
});
const urlA = `http://127.0.0.1:${server.port}/a/`;
const urlB = `http://127.0.0.1:${server.port}/b/`;

// Asynchronous on purpose: the release server lives in this process and must answer while a child runs.
async function run(argv: string[], env: Record<string, string> = {}, cwd = REPO): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(argv, { cwd, env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

async function release(out: string, baseUrl: string, extra: string[] = []): Promise<void> {
  const r = await run([BUN, "run", "scripts/release.ts", "--base-url", baseUrl, "--key", keyFile, "--out", out, ...extra]);
  if (r.code !== 0) throw new Error(`release failed: ${r.err}`);
}

function sums(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(join(dir, "SHA256SUMS"), "utf8").trim().split("\n")) {
    const [hash, name] = line.split("  ");
    out.set(name!, hash!);
  }
  return out;
}

const installDir = join(work, "home", ".local", "bin");

beforeAll(async () => {
  writeFileSync(keyFile, JSON.stringify(generateKey()), { mode: 0o600 });
  await release(relA, urlA);
}, 300_000);

afterAll(() => {
  server.stop(true);
  rmSync(work, { recursive: true, force: true });
});

describe("release folder", () => {
  test("a binary per target, release.json, SHA256SUMS over everything, signed", async () => {
    const s = sums(relA);
    for (const t of ["linux-x64", "linux-x64-baseline", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"]) {
      expect(s.has(binaryName(IMGB_VERSION, t))).toBe(true);
    }
    for (const f of ["release.json", "install.sh", "imgb.rb", `imgb_${IMGB_VERSION}_amd64.deb`, `imgb_${IMGB_VERSION}_arm64.deb`]) expect(s.has(f)).toBe(true);
    for (const [name, hash] of s) expect(new Bun.CryptoHasher("sha256").update(readFileSync(join(relA, name))).digest("hex")).toBe(hash);
    const verify = (sumsFile: string) =>
      run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", join(relA, "release-key.pem"), "-rawin", "-in", sumsFile, "-sigfile", join(relA, "SHA256SUMS.sig")]);
    expect((await verify(join(relA, "SHA256SUMS"))).code).toBe(0);
    const altered = join(work, "SHA256SUMS.altered");
    writeFileSync(altered, readFileSync(join(relA, "SHA256SUMS"), "utf8").replace(/^./, (c) => (c === "0" ? "1" : "0")));
    expect((await verify(altered)).code).not.toBe(0);
  });

  test("two builds of one commit are byte-identical", async () => {
    const again = join(work, "again");
    await release(again, urlA, ["--targets", "linux-x64,windows-x64"]);
    const first = sums(relA);
    const second = sums(again);
    for (const name of [binaryName(IMGB_VERSION, "linux-x64"), binaryName(IMGB_VERSION, "windows-x64"), `imgb_${IMGB_VERSION}_amd64.deb`, "install.sh"]) {
      expect(second.get(name)).toBe(first.get(name)!);
    }
    rmSync(again, { recursive: true, force: true });
  }, 120_000);

  test("Windows and macOS binaries have their platform's format and CPU", async () => {
    const head = (t: string) => readFileSync(join(relA, binaryName(IMGB_VERSION, t))).subarray(0, 4096);
    const pe = head("windows-x64");
    expect(pe.subarray(0, 2).toString("latin1")).toBe("MZ");
    const peOffset = pe.readUInt32LE(0x3c);
    expect(pe.subarray(peOffset, peOffset + 4).toString("latin1")).toBe("PE\0\0");
    expect(pe.readUInt16LE(peOffset + 4)).toBe(0x8664); // IMAGE_FILE_MACHINE_AMD64
    const machO = (t: string) => ({ magic: head(t).readUInt32LE(0), cpu: head(t).readUInt32LE(4) });
    expect(machO("darwin-arm64")).toEqual({ magic: 0xfeedfacf, cpu: 0x0100000c }); // MH_MAGIC_64, CPU_TYPE_ARM64
    expect(machO("darwin-x64")).toEqual({ magic: 0xfeedfacf, cpu: 0x01000007 }); // CPU_TYPE_X86_64
  });

  test("the Homebrew formula points at the release's binaries", async () => {
    const rb = readFileSync(join(relA, "imgb.rb"), "utf8");
    const s = sums(relA);
    for (const t of ["darwin-arm64", "darwin-x64", "linux-x64", "linux-arm64"]) {
      const name = binaryName(IMGB_VERSION, t);
      expect(rb).toContain(`url "${urlA}${name}"\n      sha256 "${s.get(name)}"`);
    }
    if (Bun.which("ruby")) expect((await run(["ruby", "-c", join(relA, "imgb.rb")])).out).toContain("Syntax OK");
  });

  test("the .deb installs with dpkg and imgb runs", async () => {
    const root = join(work, "dpkg-root");
    for (const d of ["var/lib/dpkg/info", "var/lib/dpkg/updates"]) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, "var/lib/dpkg/status"), "");
    const r = await run(["dpkg", `--root=${root}`, "--force-not-root", "--log=/dev/null", "-i", join(relA, `imgb_${IMGB_VERSION}_amd64.deb`)]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect((await run(["dpkg", `--root=${root}`, "-s", "imgb"])).out).toContain("Status: install ok installed");
    expect((await run([join(root, "usr/bin/imgb"), "version"])).out).toMatch(new RegExp(`^imgb v${IMGB_VERSION} \\(\\w+(-dirty)?, \\d{4}-\\d\\d-\\d\\d, linux-x64\\)`));
  });
});

describe("install.sh", () => {
  const install = (extra: string[] = []) =>
    run(["dash", join(relA, "install.sh"), "--base-url", urlA, ...extra], { HOME: join(work, "home"), IMGB_RELEASE_URL: "" });

  test("installs the right binary, checked against the signed SHA256SUMS", async () => {
    const r = await install();
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`installed ${binaryName(IMGB_VERSION, "linux-x64")}`);
    expect(r.out).toContain("signature checked");
    const v = await run([join(installDir, "imgb"), "version", "--json"]);
    const info = JSON.parse(v.out) as { version: string; commit: string; date: string; target: string };
    expect(info.version).toBe(IMGB_VERSION);
    expect(info.target).toBe("linux-x64");
    expect(info.commit).toMatch(/^[0-9a-f]{7}(-dirty)?$/);
    expect(info.date).toMatch(/^\d{4}-\d\d-\d\d$/);
  });

  test("--dir installs elsewhere", async () => {
    const dir = join(work, "opt-bin");
    expect((await install(["--dir", dir])).code).toBe(0);
    expect(existsSync(join(dir, "imgb"))).toBe(true);
  });

  test("a tampered binary is refused and nothing is installed", async () => {
    const dir = join(work, "tampered-bin");
    overrides.set(`/a/${binaryName(IMGB_VERSION, "linux-x64")}`, new TextEncoder().encode("#!/bin/sh\necho owned\n"));
    try {
      const r = await install(["--dir", dir]);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain("does not match SHA256SUMS");
      expect(existsSync(join(dir, "imgb"))).toBe(false);
    } finally {
      overrides.clear();
    }
  });

  test("a SHA256SUMS not signed by the release key is refused", async () => {
    const dir = join(work, "forged-sums");
    const forged = readFileSync(join(relA, "SHA256SUMS"), "utf8").replace(
      /^[0-9a-f]{64}(?=  imgb-[^ ]+-linux-x64\n)/m,
      new Bun.CryptoHasher("sha256").update("#!/bin/sh\necho owned\n").digest("hex"),
    );
    overrides.set("/a/SHA256SUMS", new TextEncoder().encode(forged));
    overrides.set(`/a/${binaryName(IMGB_VERSION, "linux-x64")}`, new TextEncoder().encode("#!/bin/sh\necho owned\n"));
    try {
      const r = await install(["--dir", dir]);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain("not signed by the imgb release key");
      expect(existsSync(join(dir, "imgb"))).toBe(false);
    } finally {
      overrides.clear();
    }
  });
});

describe("imgb self-update", () => {
  let bin = "";
  beforeAll(async () => {
    await release(relB, urlB, ["--targets", "linux-x64", "--version", NEXT]);
    const dir = join(work, "self-update");
    mkdirSync(dir, { recursive: true });
    bin = join(dir, "imgb");
    copyFileSync(join(relA, binaryName(IMGB_VERSION, "linux-x64")), bin);
    chmodSync(bin, 0o755);
  }, 120_000);

  test("--check says a newer release exists and changes nothing", async () => {
    const before = readFileSync(bin);
    const r = await run([bin, "self-update", "--check", "--base-url", urlB]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`imgb v${NEXT} is available (this is v${IMGB_VERSION})`);
    expect(readFileSync(bin).equals(before)).toBe(true);
  });

  test("a tampered new binary is refused and the old one stays", async () => {
    overrides.set(`/b/${binaryName(NEXT, "linux-x64")}`, new TextEncoder().encode("#!/bin/sh\necho owned\n"));
    try {
      const r = await run([bin, "self-update", "--base-url", urlB]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("does not match its checksum; refused, nothing replaced");
      expect((await run([bin, "version"])).out).toContain(`imgb v${IMGB_VERSION} `);
    } finally {
      overrides.clear();
    }
  });

  test("a release index not signed by the built-in key is refused", async () => {
    const other = generateKey();
    overrides.set("/b/SHA256SUMS.sig", Buffer.from(signBytes(other, readFileSync(join(relB, "SHA256SUMS"))), "hex"));
    try {
      const r = await run([bin, "self-update", "--base-url", urlB]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("is not signed by this binary's release key; refused");
    } finally {
      overrides.clear();
    }
  });

  test("updates to the newer release in place, then refuses to go back", async () => {
    const r = await run([bin, "self-update", "--base-url", urlB]);
    expect(r.err).toBe("");
    expect(r.out).toContain(`imgb updated: v${IMGB_VERSION} -> v${NEXT}`);
    expect((await run([bin, "version"])).out).toContain(`imgb v${NEXT} `);
    const back = await run([bin, "self-update", "--base-url", urlA]);
    expect(back.code).toBe(1);
    expect(back.err).toContain(`offers v${IMGB_VERSION}, older than this v${NEXT}; refusing to downgrade`);
    expect((await run([bin, "self-update", "--base-url", urlB])).out).toContain(`imgb v${NEXT} is up to date`);
  }, 60_000);
});

// linux-arm64 runs here under qemu-user: binfmt_misc hands the binary (and the sandbox child it
// re-executes) to qemu-aarch64, with the arm64 C library from libc6-arm64-cross.
const ARM_LIBC = "/usr/aarch64-linux-gnu";
function armReady(): boolean {
  if (!existsSync("/usr/libexec/qemu-binfmt/aarch64-binfmt-P") || !existsSync(`${ARM_LIBC}/lib/ld-linux-aarch64.so.1`)) return false;
  if (existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) return true;
  if (process.getuid?.() !== 0 || !existsSync("/usr/lib/binfmt.d/qemu-aarch64.conf")) return false;
  try {
    writeFileSync("/proc/sys/fs/binfmt_misc/register", readFileSync("/usr/lib/binfmt.d/qemu-aarch64.conf"));
  } catch {
    return false;
  }
  return existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64");
}

describe.skipIf(!armReady())("linux-arm64 under qemu-user", () => {
  test("version, validate and build of examples/hello (WASM plugins in the sandbox)", async () => {
    const bin = join(relA, binaryName(IMGB_VERSION, "linux-arm64"));
    // Emulated, compiling each plugin's wasm takes longer than the 2 s load-time limit allows.
    const env = { QEMU_LD_PREFIX: ARM_LIBC, IMGB_PLUGIN_LOAD_MS: "60000" };
    expect((await run([bin, "version"], env)).out).toContain(`imgb v${IMGB_VERSION} `);
    expect((await run([bin, "version"], env)).out).toContain("linux-arm64)");
    const dir = join(work, "hello");
    cpSync(join(REPO, "examples", "hello"), dir, { recursive: true });
    const v = await run([bin, "validate", "hello.json"], env, dir);
    expect(v.out).toContain("The configuration is valid.");
    const b = await run([bin, "build", "-color=false", "-only=hello-file", "hello.json"], env, dir);
    expect(b.err).toBe("");
    expect(b.code).toBe(0);
    expect(b.out).toContain("hello-file: hello from the hello-file build (file builder)");
    expect(b.out).toContain("Running post-processor: checksum");
    expect(existsSync(join(dir, "output", "hello-file_sha256.checksum"))).toBe(true);
  }, 180_000);
});
