// Image builders through the compiled binary, on the examples users run: every example validates;
// an HCL2 template builds a rootfs from the cached base tarball with the shell plugin in the chroot;
// the docker builder provisions inside a podman container, commits, tags and saves the image
// (examples/docker-debian); the qemu builder BIOS-boots the example guest, grows and provisions it
// over SSH (examples/qemu-debian). Each result is read back from the output itself.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { debianMinbaseTarball, podmanBaseImage } from "../support/images.ts";

const REPO = join(import.meta.dir, "../..");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), "imgb-e2e-builders-"));
  dirs.push(d);
  return d;
}

describe("examples", () => {
  // Each from the folder its README runs it in; validate runs every check build makes first.
  const cases: Array<[string, string]> = [
    ["examples/hello", "hello.json"],
    [".", "examples/debian-rootfs"],
    [".", "examples/debian-rootfs/template.json"],
    [".", "examples/docker-debian"],
    [".", "examples/docker-debian/template.json"],
    ["examples/qemu-debian", "guest"],
    ["examples/qemu-debian", "guest/template.json"],
    ["examples/qemu-debian", "."],
    ["examples/qemu-debian", "template.json"],
  ];
  for (const [cwd, template] of cases) {
    test(`imgb validate ${template} (in ${cwd})`, async () => {
      const r = await runImgb(["validate", template], { cwd: join(REPO, cwd) });
      expect(r.stdout + r.stderr).toContain("The configuration is valid.");
      expect(r.exitCode).toBe(0);
    });
  }
});

describe("rootfs builder through imgb build", () => {
  test("provisioned file is inside the output tarball; -force overwrites", async () => {
    const tarball = await debianMinbaseTarball();
    const dir = workDir();
    writeFileSync(
      join(dir, "image.pkr.hcl"),
      `source "rootfs" "base" {
  source_tarball = "${tarball}"
  formats        = ["tar"]
}

build {
  sources = ["source.rootfs.base"]
  provisioner "shell" {
    inline = ["echo provisioned-by-imgb > /etc/imgb-marker"]
  }
}
`,
    );
    const r = await runImgb(["build", "-color=false", "image.pkr.hcl"], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const tar = Bun.spawnSync(["tar", "-xOf", join(dir, "output-base/base.tar"), "./etc/imgb-marker"]);
    expect(tar.stdout.toString()).toBe("provisioned-by-imgb\n");

    const again = await runImgb(["build", "-color=false", "image.pkr.hcl"], { cwd: dir, timeoutMs: 180_000 });
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toContain("already exists");
    const forced = await runImgb(["build", "-color=false", "-force", "image.pkr.hcl"], { cwd: dir, timeoutMs: 180_000 });
    expect(forced.exitCode, forced.stdout + forced.stderr).toBe(0);
  }, 600_000);
});

describe("docker builder through imgb build", () => {
  test("provisioned inside a podman container and committed", async () => {
    const image = await podmanBaseImage();
    const dir = workDir();
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "docker", image, commit: true, pull: false, changes: ["LABEL built-by=imgb"] }],
        provisioners: [{ type: "shell", inline: ["echo in-container > /imgb-marker"] }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const id = /--> docker: Imported Docker image: (\S+)/.exec(r.stdout)?.[1] ?? /sha256:([0-9a-f]{64})/.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeTruthy();
    // The same lowered limits the builder uses: podman's defaults cannot be set on this kind of machine.
    const ulimits = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000"];
    const run = Bun.spawnSync(["podman", "run", "--rm", ...ulimits, "--entrypoint", "/bin/cat", String(id), "/imgb-marker"], { env: process.env });
    expect(run.stdout.toString(), run.stderr.toString()).toBe("in-container\n");
    Bun.spawnSync(["podman", "rmi", "-f", String(id)]);
  }, 600_000);

  for (const template of ["examples/docker-debian", "examples/docker-debian/template.json"]) {
    test(`${template}: committed, tagged with the version and latest, saved to app.tar`, async () => {
      const image = await podmanBaseImage();
      const dir = workDir();
      const version = `t${process.pid}`;
      const r = await runImgb(["build", "-color=false", "-var", `image=${image}`, "-var", `version=${version}`, join(REPO, template)], {
        cwd: dir,
        timeoutMs: 180_000,
      });
      const built = /Image ID: ([0-9a-f]{64})/.exec(r.stdout)?.[1];
      try {
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        const ran = Bun.spawnSync(["podman", "run", "--rm", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000", `localhost/imgb-examples/app:${version}`]);
        expect(ran.stdout.toString(), ran.stderr.toString()).toStartWith("Committed by imgb at ");
        const manifest = JSON.parse(Bun.spawnSync(["tar", "-xOf", join(dir, "app.tar"), "manifest.json"]).stdout.toString());
        expect(manifest[0].RepoTags).toEqual(["localhost/imgb-examples/app:latest"]);
      } finally {
        Bun.spawnSync(["podman", "rmi", "-f", `localhost/imgb-examples/app:${version}`, "localhost/imgb-examples/app:latest", ...(built ? [built] : [])]);
      }
    }, 180_000);
  }
});

describe("qemu builder through imgb build", () => {
  test("examples/qemu-debian: BIOS-boots the guest disk, grows it, provisions over SSH, shuts down, writes the disk", async () => {
    const { qemuGuest, readFromDiskImage, fileSystemBytes, QEMU_EXAMPLE } = await import("../support/images.ts");
    const guest = await qemuGuest();
    const dir = workDir();
    const r = await runImgb(
      ["build", "-color=false", "-var", `guest_dir=${guest.guestDir}`, "-var", `ssh_key=${guest.privateKeyFile}`, QEMU_EXAMPLE],
      { cwd: dir, timeoutMs: 500_000 },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/KVM works|KVM does not work here/);
    expect(r.stdout).toContain("Gracefully halting virtual machine");
    const disk = join(dir, "output-debian/debian.qcow2");
    expect(await readFromDiskImage(disk, "/etc/motd")).toMatch(/^Provisioned over SSH by imgb on \d+\.\d+\S*-amd64$/);
    // growpart and resize2fs ran inside: the root file system fills the 4 GiB disk, not the guest's 2 GiB.
    expect(await fileSystemBytes(disk)).toBeGreaterThan(3.5 * 2 ** 30);
    const info = JSON.parse(Bun.spawnSync(["qemu-img", "info", "--output=json", disk]).stdout.toString());
    expect(info["virtual-size"]).toBe(4 * 2 ** 30);
    expect(Bun.spawnSync(["pgrep", "-f", "qemu-system-x86_64"]).stdout.toString().trim()).toBe("");
  }, 900_000);
});
