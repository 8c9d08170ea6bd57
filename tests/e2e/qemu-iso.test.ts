// Installs from an ISO through the compiled binary, under TCG, as Packer users do it: the test
// installer ISO (tests/support/installer-iso.ts) is downloaded from a loopback HTTP server with a
// file: checksum into the cache, boot_command is typed at isolinux's prompt, the installer fetches
// install.sh and root's key from the build's HTTP server (http_content), installs onto the disk and
// reboots into it; imgb provisions over SSH and shuts down, and the test reads the provisioned file
// back from the qcow2. Beside it, in parallel, the same ISO boots through UEFI (OVMF) with a TPM
// (swtpm), typed at GRUB's prompt (boot_steps), and reports its firmware, TPM, extra CD (cd_files,
// cd_content, cd_label) and floppy on its disk. Then Ctrl-C at each phase leaves nothing behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runImgb } from "../support/binary.ts";
import { installerIso } from "../support/installer-iso.ts";
import { readFromDiskImage } from "../support/images.ts";
import { run } from "../../core/process/child.ts";
import { interruptBuild, type Interrupted } from "../support/interrupt.ts";

const FIXTURE = resolve(import.meta.dir, "fixtures/qemu-iso");
const dirs: string[] = [];
let iso = "";
let isoSha = "";
let server: ReturnType<typeof Bun.serve>;
let throttle = false;
let requests = 0;

function freshDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A copy of the fixture with its own key pair, as a user's project folder. */
async function project(): Promise<string> {
  const dir = freshDir("imgb-iso-e2e-");
  cpSync(FIXTURE, dir, { recursive: true });
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imgb-iso-test", "-f", join(dir, "key")]);
  return dir;
}

beforeAll(async () => {
  iso = (await installerIso()).iso;
  isoSha = new Bun.CryptoHasher("sha256").update(await Bun.file(iso).arrayBuffer()).digest("hex");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      requests++;
      const path = new URL(req.url).pathname;
      if (path === "/SHA256SUMS") return new Response(`${isoSha}  installer.iso\n`);
      if (path !== "/installer.iso") return new Response("no", { status: 404 });
      if (!throttle) return new Response(Bun.file(iso));
      const bytes = Bun.file(iso);
      let at = 0;
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(100);
            const chunk = new Uint8Array(await bytes.slice(at, at + (64 << 10)).arrayBuffer());
            at += chunk.byteLength;
            if (chunk.byteLength === 0) c.close();
            else c.enqueue(chunk);
          },
        }),
        { headers: { "content-length": String(bytes.size) } },
      );
    },
  });
}, 300_000);
afterAll(() => {
  server?.stop(true);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const isoUrl = () => `http://127.0.0.1:${server.port}/installer.iso`;
const sumsUrl = () => `file:http://127.0.0.1:${server.port}/SHA256SUMS`;

function pgrep(pattern: string): string {
  return Bun.spawnSync(["pgrep", "-af", pattern]).stdout.toString().trim();
}

test("validate never downloads: neither the ISO nor a file: checksum", async () => {
  const dir = await project();
  requests = 0;
  const r = await runImgb(
    ["validate", "-var", `iso_url=${isoUrl()}`, "-var", `iso_checksum=${sumsUrl()}`, "-var", "public_key=key.pub", "-var", "private_key=key", "install.pkr.hcl"],
    { cwd: dir },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toContain("The configuration is valid.");
  expect(requests).toBe(0);
});

test(
  "BIOS: boot_command at isolinux, install over HTTP, reboot, provision over SSH; UEFI with a TPM, extra CD and floppy, in parallel",
  async () => {
    const bios = await project();
    const uefi = await project();
    const cache = freshDir("imgb-iso-cache-");
    const uefiTmp = freshDir("imgb-iso-uefi-tmp-");
    const [b, u] = await Promise.all([
      runImgb(
        ["build", "-color=false", "-var", `iso_url=${isoUrl()}`, "-var", `iso_checksum=${sumsUrl()}`, "-var", "public_key=key.pub", "-var", "private_key=key", "install.pkr.hcl"],
        { cwd: bios, env: { PACKER_CACHE_DIR: cache }, timeoutMs: 400_000 },
      ),
      runImgb(["build", "-color=false", "-var", `iso_url=${iso}`, "-var", `iso_checksum=sha256:${isoSha}`, "uefi.pkr.hcl"], { cwd: uefi, env: { TMPDIR: uefiTmp }, timeoutMs: 400_000 }),
    ]);
    expect(b.exitCode, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toContain(`Trying ${isoUrl()}`);
    expect(b.stdout).toMatch(/HTTP GET \/install\.sh 200/);
    expect(b.stdout).toMatch(/HTTP GET \/authorized_keys 200/);
    expect(b.stdout).toContain("Typing the boot commands over QEMU's monitor (QMP)...");
    expect(b.stdout).toContain("Connected to SSH!");
    // Downloaded once into the cache under Packer's name for it, nothing partial beside it.
    const cached = `${new Bun.CryptoHasher("sha1").update(sumsUrl()).digest("hex")}.iso`;
    expect(readdirSync(cache)).toEqual([cached]);
    const disk = join(bios, "out", "installed.qcow2");
    const provisioned = await readFromDiskImage(disk, "/root/provisioned", 1);
    expect(provisioned).toMatch(/^provisioned-over-ssh\n6\.\d+\.\d+-\d+-amd64\n?$/);
    expect(await readFromDiskImage(disk, "/etc/installed-by", 1)).toContain("/install.sh");

    expect(u.exitCode, u.stdout + u.stderr).toBe(0);
    expect(u.stdout).toContain("Typing boot command for: kernel");
    expect(u.stdout).toContain("Typing boot command for: initrd and boot");
    expect(u.stdout).toContain("Waiting for shutdown...");
    const report = await readFromDiskImage(join(uefi, "out-uefi", "report.raw"), "/report", 1);
    expect(report).toContain("efi=yes");
    expect(report).toContain("tpm=yes\ntpm_version=2");
    expect(report).toMatch(/cd_label=cidata on \/dev\/sr\d/);
    expect(report).toContain("hello from cd_files\ntemplated uefi");
    expect(report).toContain("floppy file\ngenerated on the floppy");
    expect(report).toContain("inside.txt");
    expect(existsSync(join(uefi, "out-uefi", "efivars.fd"))).toBe(true);
    expect(pgrep(`swtpm socket.*${uefiTmp}`)).toBe("");
  },
  420_000,
);

function interrupt(dir: string, args: string[], when: RegExp, afterMs: number, env: Record<string, string> = {}): Promise<Interrupted> {
  return interruptBuild(dir, { args, when, afterMs, env, tmp: freshDir("imgb-iso-int-tmp-") });
}

async function expectNothingLeft(r: Interrupted, dir: string, output: string) {
  expect(r.exitCode, r.stdout).toBe(1);
  expect(r.stdout).toContain("Cleanly cancelled builds after being interrupted.");
  expect(r.tmpLeft).toEqual([]);
  expect(existsSync(join(dir, output))).toBe(false);
  // The build's processes are known by their work folder, which is under its own TMPDIR.
  expect(pgrep(`qemu-system.*${r.tmp}`)).toBe("");
  expect(pgrep(`swtpm socket.*${r.tmp}`)).toBe("");
  const port = /Starting HTTP server on port (\d+)/.exec(r.stdout)?.[1];
  if (port) expect(await fetch(`http://127.0.0.1:${port}/`).then(() => "open", () => "closed")).toBe("closed");
}

describe("Ctrl-C during an ISO install", () => {
  test("while downloading: no partial download in the cache", async () => {
    const dir = await project();
    const cache = freshDir("imgb-iso-cache-");
    throttle = true;
    try {
      const r = await interrupt(
        dir,
        ["-var", `iso_url=${isoUrl()}`, "-var", `iso_checksum=sha256:${isoSha}`, "-var", "public_key=key.pub", "-var", "private_key=key", "install.pkr.hcl"],
        /Trying http/,
        700,
        { PACKER_CACHE_DIR: cache },
      );
      await expectNothingLeft(r, dir, "out");
      expect(readdirSync(cache)).toEqual([]);
    } finally {
      throttle = false;
    }
  }, 60_000);

  test("while waiting to type the boot command (UEFI, TPM): no qemu, no swtpm, no HTTP server", async () => {
    const dir = await project();
    const r = await interrupt(dir, ["-var", `iso_url=${iso}`, "-var", "iso_checksum=none", "uefi.pkr.hcl"], /Waiting 45s for boot/, 1000);
    await expectNothingLeft(r, dir, "out-uefi");
  }, 60_000);

  test("while the guest boots the installer (waiting for SSH): no qemu, no HTTP server", async () => {
    const dir = await project();
    const r = await interrupt(
      dir,
      ["-var", `iso_url=${iso}`, "-var", "iso_checksum=none", "-var", "public_key=key.pub", "-var", "private_key=key", "install.pkr.hcl"],
      /Waiting for SSH on/,
      2000,
    );
    await expectNothingLeft(r, dir, "out");
  }, 60_000);
});
