// Ctrl-C in the middle of real builds, through the compiled binary: the rootfs builder's chroot,
// the docker builder's container and the qemu builder's VM are all gone afterwards, and so are the
// work folders, the output folder, mounts and loop devices. Each build runs with its own TMPDIR so
// "nothing left" can be checked exactly. With -on-error=abort the opposite is asked for: the machine
// stays for inspection, and the user is told what stays and how to remove it.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { processAlive } from "../support/processes.ts";
import { interruptBuild as interrupt, type Interrupted } from "../support/interrupt.ts";
import { debianMinbaseTarball, podmanBaseImage } from "../support/images.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function freshDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Runs `imgb build`, sends SIGINT once stdout matches `when`, and waits for imgb to exit. */
function interruptBuild(dir: string, template: string, when: RegExp, waitMs: number): Promise<Interrupted> {
  return interrupt(dir, { args: [template], when, waitMs, tmp: freshDir("imgb-int-tmp-"), exitWithinMs: 30_000 });
}

function pgrep(pattern: string): string {
  return Bun.spawnSync(["pgrep", "-af", pattern]).stdout.toString().trim();
}

function hostMountsMatching(text: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(text));
}

function loopDevices(): string {
  return Bun.spawnSync(["losetup", "-a"]).stdout.toString().trim();
}

function expectCleanlyCancelled(r: Interrupted) {
  expect(r.exitCode, r.stdout).toBe(1);
  expect(r.stdout).toContain("Cleanly cancelled builds after being interrupted.");
  expect(r.tmpLeft).toEqual([]);
}

describe("Ctrl-C during image builds", () => {
  test("rootfs: the chroot's processes, the tree and the output folder are gone", async () => {
    const tarball = await debianMinbaseTarball();
    const dir = freshDir("imgb-int-rootfs-");
    const loopsBefore = loopDevices();
    writeFileSync(
      join(dir, "t.pkr.hcl"),
      `source "rootfs" "int" {
  source_tarball = "${tarball}"
  formats        = ["tar"]
}
build {
  sources = ["source.rootfs.int"]
  provisioner "shell" {
    inline = ["echo started; sleep 4242 & sleep 4243; wait"]
  }
}
`,
    );
    const r = await interruptBuild(dir, "t.pkr.hcl", /rootfs\.int: started/, 120_000);
    expectCleanlyCancelled(r);
    expect(pgrep("sleep 424[23]")).toBe("");
    expect(existsSync(join(dir, "output-int"))).toBe(false);
    expect(hostMountsMatching("imgb-rootfs-")).toEqual([]);
    expect(loopDevices()).toBe(loopsBefore);
  }, 180_000);

  test("docker: the container is removed", async () => {
    const image = await podmanBaseImage();
    const dir = freshDir("imgb-int-docker-");
    const containersBefore = Bun.spawnSync(["podman", "ps", "-a", "-q"]).stdout.toString().trim();
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "docker", image, commit: true, pull: false }],
        provisioners: [{ type: "shell", inline: ["echo started; sleep 4244"] }],
      }),
    );
    const r = await interruptBuild(dir, "t.json", /docker: started/, 120_000);
    expectCleanlyCancelled(r);
    expect(Bun.spawnSync(["podman", "ps", "-a", "-q"]).stdout.toString().trim()).toBe(containersBefore);
    expect(pgrep("sleep 4244")).toBe("");
  }, 180_000);

  test("qemu: the VM is stopped and the overlay and output folder are gone", async () => {
    const { qemuGuest } = await import("../support/images.ts");
    const guest = await qemuGuest();
    const dir = freshDir("imgb-int-qemu-");
    const vmName = `interrupt-${process.pid}.qcow2`;
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [
          {
            type: "qemu",
            iso_url: guest.disk,
            iso_checksum: "none",
            disk_image: true,
            accelerator: "tcg",
            vm_name: vmName,
            memory: 512,
            ssh_username: guest.user,
            ssh_private_key_file: guest.privateKeyFile,
            ssh_timeout: "4m",
          },
        ],
      }),
    );
    const r = await interruptBuild(dir, "t.json", /Waiting for SSH/, 120_000);
    expectCleanlyCancelled(r);
    expect(pgrep(`qemu-system.*${vmName}`)).toBe("");
    expect(existsSync(join(dir, "output-qemu"))).toBe(false);
  }, 400_000);
});

describe("-on-error=abort leaves the machine to inspect, and says how to remove it", () => {
  test("docker: the container stays running and the message names it", async () => {
    const image = await podmanBaseImage();
    const dir = freshDir("imgb-abort-docker-");
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({ builders: [{ type: "docker", image, commit: true, pull: false }], provisioners: [{ type: "shell", inline: ["exit 3"] }] }),
    );
    const r = await runImgb(["build", "-color=false", "-on-error=abort", "t.json"], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(1);
    const id = /container ([0-9a-f]{64}) stays running; remove it with: podman rm --force --time 0 \1/.exec(r.stdout + r.stderr)?.[1];
    expect(id, r.stdout + r.stderr).toBeTruthy();
    try {
      expect(Bun.spawnSync(["podman", "inspect", "--format", "{{.State.Running}}", id!]).stdout.toString().trim()).toBe("true");
    } finally {
      Bun.spawnSync(["podman", "rm", "--force", "--time", "0", id!]);
    }
  }, 120_000);

  test("qemu: the VM stays running with its pid and port said, and the partial output stays", async () => {
    const { qemuGuest } = await import("../support/images.ts");
    const guest = await qemuGuest();
    const dir = freshDir("imgb-abort-qemu-");
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "qemu", iso_url: guest.disk, iso_checksum: "none", disk_image: true, accelerator: "tcg", communicator: "none", output_directory: "out" }],
        provisioners: [{ type: "shell-local", inline: ["exit 3"] }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "-on-error=abort", "t.json"], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(1);
    const text = r.stdout + r.stderr;
    const m = /the VM stays running \(qemu pid (\d+), SSH on 127\.0\.0\.1:(\d+)\); stop it with: kill \1/.exec(text);
    expect(m, text).toBeTruthy();
    const pid = Number(m![1]);
    try {
      expect(processAlive(pid)).toBe(true);
      expect(text).toContain("the partial output stays in out");
      expect(existsSync(join(dir, "out"))).toBe(true);
      const overlay = /the VM's disk overlay and console log stay in (\S+)/.exec(text)?.[1];
      expect(overlay && existsSync(join(overlay, "disk.qcow2"))).toBe(true);
      dirs.push(overlay!);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  }, 120_000);
});
