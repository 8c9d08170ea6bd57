// Image builders through the compiled binary: an HCL2 template builds a rootfs from the cached base
// tarball, the shell plugin provisions it in the chroot, and the file is inside the output tarball;
// the docker builder does the same inside a podman container and commits an image.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { debianMinbaseTarball, podmanBaseImage } from "../support/images.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), "imgb-e2e-builders-"));
  dirs.push(d);
  return d;
}

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
});

describe("qemu builder through imgb build", () => {
  test("boots the guest, provisions it over SSH with the shell plugin, shuts down, writes the disk", async () => {
    const { qemuGuest } = await import("../support/images.ts");
    const guest = await qemuGuest();
    const dir = workDir();
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [
          {
            type: "qemu",
            iso_url: guest.disk,
            iso_checksum: "none",
            disk_image: true,
            kernel: guest.kernel,
            initrd: guest.initrd,
            kernel_args: "root=/dev/vda rw console=ttyS0 quiet",
            output_directory: "out",
            vm_name: "debian.qcow2",
            memory: 768,
            ssh_username: guest.user,
            ssh_private_key_file: guest.privateKeyFile,
            ssh_timeout: "4m",
            shutdown_command: "systemctl poweroff",
          },
        ],
        provisioners: [{ type: "shell", inline: ["echo provisioned-in-vm > /root/imgb-marker", "sync"] }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir, timeoutMs: 400_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const raw = join(dir, "disk.raw");
    Bun.spawnSync(["qemu-img", "convert", "-O", "raw", join(dir, "out/debian.qcow2"), raw]);
    const cat = Bun.spawnSync(["debugfs", "-R", "cat /root/imgb-marker", raw]);
    expect(cat.stdout.toString()).toBe("provisioned-in-vm\n");
    expect(Bun.spawnSync(["pgrep", "-f", "qemu-system-x86_64.*debian"]).stdout.toString().trim()).toBe("");
  }, 600_000);
});
