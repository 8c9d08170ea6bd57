// The qemu builder for real: a Debian guest (the qemu-debian example's BIOS-bootable disk, made once
// and cached) booted with its kernel under TCG or KVM, provisioned over SSH through a forwarded
// 127.0.0.1 port, shut down with shutdown_command, and the flattened disk read back with debugfs.
// The accelerator's test boot is checked under TCG, where its verdict is known.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { qemuBuilderFactory } from "../../../core/builders/qemu/index.ts";
import { qemuArgv } from "../../../core/builders/qemu/command-line.ts";
import { parseQemuConfig } from "../../../core/builders/qemu/config.ts";
import { checkDisk, sha256Of } from "../../../core/builders/qemu/disk.ts";
import { run, runText } from "../../../core/process/child.ts";
import { testBoot, testBootArgv } from "../../../core/builders/qemu/accelerator.ts";
import { qemuGuest, readFromDiskImage, type QemuGuest } from "../../support/images.ts";
import { leftovers, runBuild, sh } from "../docker/harness.ts";

const build = { buildName: "qemu.t", sourceName: "t", builderType: "qemu", generated: {}, placeholders: false };
let guest: QemuGuest;
let work = "";

let netnsBefore: string[] = [];
beforeAll(async () => {
  netnsBefore = (await leftovers()).netns;
  guest = await qemuGuest();
  work = await mkdtemp(join(tmpdir(), "imgb-qemu-test-"));
}, 400_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function guestConfig(outDir: string) {
  return {
    iso_url: guest.disk,
    iso_checksum: "none",
    disk_image: true,
    kernel: guest.kernel,
    initrd: guest.initrd,
    kernel_args: "root=LABEL=root rw console=ttyS0 quiet",
    output_directory: outDir,
    vm_name: "debian.qcow2",
    memory: 768,
    ssh_username: guest.user,
    ssh_private_key_file: guest.privateKeyFile,
    ssh_timeout: "4m",
  };
}

async function expectNothingLeft() {
  const left = await leftovers("imgb-qemu-");
  expect(left.netns.filter((n) => !netnsBefore.includes(n))).toEqual([]);
  expect(left.children).toEqual([]);
  expect(left.mounts).toEqual([]);
}

describe("qemu builder config", () => {
  test("Packer's defaults, ssh keys checked, unsupported modes refused", () => {
    const ok = parseQemuConfig({ iso_url: "x.qcow2", iso_checksum: "none", disk_image: true, ssh_username: "root", ssh_password: "p" }, build);
    expect(ok.diagnostics).toEqual([]);
    expect(ok.config).toMatchObject({ vm_name: "packer-t", output_directory: "output-t", format: "qcow2", host_port_min: 2222 });
    const bad = qemuBuilderFactory.create({ iso_url: "ftp://example.invalid/x.iso", format: "vmdk", ssh_timeout: "soon", qemuargs: [["-m", 4]] }, build);
    const text = bad.diagnostics.map((d) => d.summary).join("\n");
    expect(text).toContain('"iso_checksum" must be specified');
    expect(text).toContain('unsupported URL scheme "ftp"');
    expect(text).toContain('"format" must be qcow2 or raw');
    expect(text).toContain("ssh_username must be specified");
    expect(text).toContain('"qemuargs" must be a list of non-empty lists of strings');
  });
  test("the command line: headless, forwarded port on 127.0.0.1, virtio-rng, qemuargs override defaults", () => {
    const { config } = parseQemuConfig(
      { iso_url: "x", iso_checksum: "none", disk_image: true, ssh_username: "root", ssh_password: "p", qemuargs: [["-m", "2G"], ["-smp", "2"]] },
      build,
    );
    const argv = qemuArgv(config!, { disks: ["/w/d.qcow2"], hostPort: 3333, guestPort: 22, consoleLog: "/w/c.log", accelerator: "tcg" });
    const line = argv.join(" ");
    expect(line).toContain("-netdev user,id=user.0,hostfwd=tcp:127.0.0.1:3333-:22");
    expect(line).toContain("-device virtio-rng-pci");
    expect(line).toContain("-display none");
    expect(line).toContain("-machine type=pc,accel=tcg");
    expect(argv.filter((a) => a === "-m")).toHaveLength(1);
    expect(line).toContain("-m 2G -smp 2");
  });
});

describe("accelerator test boot", () => {
  test("runs what the build runs: the kernel, or the disk read-only; KVM with the host's CPU", () => {
    const kernel = testBootArgv({ qemuBinary: "qemu-system-x86_64", kernel: "/k", initrd: "/i" }).join(" ");
    expect(kernel).toContain("-accel kvm -cpu host");
    expect(kernel).toContain("-kernel /k -append console=ttyS0 panic=-1 earlyprintk=ttyS0 -initrd /i");
    const disk = testBootArgv({ qemuBinary: "q", disk: { path: "/d.qcow2", format: "qcow2" }, accel: "tcg" }).join(" ");
    expect(disk).toContain("-drive file=/d.qcow2,format=qcow2,if=virtio,snapshot=on");
    expect(disk).not.toContain("-cpu host");
  });

  test(
    "a BIOS-bootable disk counts as working once its kernel reaches init; the disk is not written",
    async () => {
      const before = await sha256Of(guest.disk);
      const r = await testBoot({ qemuBinary: "qemu-system-x86_64", disk: { path: guest.disk, format: "qcow2" }, accel: "tcg", timeoutMs: 120_000 });
      expect(r).toMatchObject({ works: true });
      expect(r.reason).toContain("the disk reached init");
      expect(await sha256Of(guest.disk)).toBe(before);
      await expectNothingLeft();
    },
    150_000,
  );

  test(
    "a disk that never reaches a kernel does not count, and the reason says what was seen",
    async () => {
      const blank = join(work, "blank.qcow2");
      await run(["qemu-img", "create", "-q", "-f", "qcow2", blank, "64M"]);
      const started = performance.now();
      const r = await testBoot({ qemuBinary: "qemu-system-x86_64", disk: { path: blank, format: "qcow2" }, accel: "tcg", timeoutMs: 3000 });
      expect(performance.now() - started).toBeLessThan(8000);
      expect(r.works).toBe(false);
      expect(r.reason).toContain("printed nothing on the serial console within 3 s");
      await expectNothingLeft();
    },
    30_000,
  );

  test(
    "under KVM the verdict comes within the timeout and the test VM is gone",
    async () => {
      const started = performance.now();
      const r = await testBoot({ qemuBinary: "qemu-system-x86_64", kernel: guest.kernel, initrd: guest.initrd, timeoutMs: 8000 });
      expect(performance.now() - started).toBeLessThan(12_000);
      expect(r.reason.length).toBeGreaterThan(0);
      console.log(`KVM test boot here: ${r.works ? "works" : "does not work"} (${r.reason})`);
      await expectNothingLeft();
    },
    30_000,
  );
});

describe("qemu builder", () => {
  test(
    "boots the guest, provisions over SSH, shuts down and writes a flattened, grown disk",
    async () => {
      const outDir = join(work, "out");
      const baseSum = await sha256Of(guest.disk);
      const started = performance.now();
      const outcome = await runBuild(
        qemuBuilderFactory,
        { ...guestConfig(outDir), disk_size: "3G", shutdown_command: "systemctl poweroff", shutdown_timeout: "2m" },
        async (comm) => {
          const r = await sh(comm, "echo provisioned-over-ssh > /etc/imgb-provisioned && sync && uname -r && cat /sys/class/misc/hw_random/rng_current 2>/dev/null || true");
          expect(r.result).toEqual({ kind: "exited", exitStatus: 0 });
          expect(r.stdout).toContain("amd64");
          expect(r.stdout).toContain("virtio_rng");
        },
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(`qemu build took ${seconds.toFixed(1)} s: ${outcome.ui.lines.filter((l) => l.startsWith("==>")).join(" | ")}`);
      expect(outcome.error).toBeUndefined();
      const a = outcome.artifact!;
      expect(a.builderId).toBe("transcend.qemu");
      expect(a.files).toEqual([join(outDir, "debian.qcow2")]);
      expect(outcome.generated.Host).toBe("127.0.0.1");
      expect(typeof outcome.generated.Port).toBe("number");
      expect(outcome.ui.lines.some((l) => l.includes("Gracefully halting"))).toBe(true);
      expect(outcome.ui.lines).toContain("    qemu-img check: no errors");

      const info = JSON.parse(await runText(["qemu-img", "info", "--output=json", a.files[0]!]));
      expect(info.format).toBe("qcow2");
      expect(info["backing-filename"]).toBeUndefined();
      expect(info["virtual-size"]).toBe(3 * 2 ** 30);
      expect(await readFromDiskImage(a.files[0]!, "/etc/imgb-provisioned")).toBe("provisioned-over-ssh");
      expect(await sha256Of(guest.disk)).toBe(baseSum);
      await expectNothingLeft();
    },
    400_000,
  );

  test(
    "cancelling while waiting for SSH stops the VM and leaves no output",
    async () => {
      const outDir = join(work, "out-cancel");
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 4000);
      const started = performance.now();
      const outcome = await runBuild(qemuBuilderFactory, { ...guestConfig(outDir), accelerator: "tcg" }, async () => {}, ctl.signal);
      expect(outcome.error).toBeDefined();
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(existsSync(outDir)).toBe(false);
      await expectNothingLeft();
    },
    60_000,
  );

  test(
    "a VM that dies before SSH answers fails the connect step at once, naming qemu's reason",
    async () => {
      const outDir = join(work, "out-dies");
      const outcome = await runBuild(
        qemuBuilderFactory,
        // No initrd and no root device: the kernel panics, panic=1 reboots, -no-reboot ends qemu.
        { ...guestConfig(outDir), accelerator: "tcg", initrd: "", kernel_args: "console=ttyS0 panic=1", qemuargs: [["-no-reboot"]] },
        async () => {},
      );
      expect(outcome.failedStep).toBe("StepConnect");
      expect(String(outcome.error)).toContain("the VM stopped before SSH answered");
      expect(String(outcome.error)).toContain("Rebooting in 1 seconds");
      expect(existsSync(outDir)).toBe(false);
      await expectNothingLeft();
    },
    120_000,
  );
});

describe("output formats (communicator none: the VM boots and is halted, no SSH wait)", () => {
  const quick = (outDir: string) => ({ iso_url: guest.disk, iso_checksum: "none", disk_image: true, accelerator: "tcg", communicator: "none", output_directory: outDir });

  test(
    "format = raw: a flat raw disk of the image's size, the root partition readable",
    async () => {
      const outDir = join(work, "out-raw");
      const outcome = await runBuild(qemuBuilderFactory, { ...quick(outDir), format: "raw", vm_name: "disk.raw" }, async () => {});
      expect(outcome.error).toBeUndefined();
      const file = outcome.artifact!.files[0]!;
      const info = JSON.parse(await runText(["qemu-img", "info", "--output=json", file]));
      expect(info.format).toBe("raw");
      expect(info["virtual-size"]).toBe(JSON.parse(await runText(["qemu-img", "info", "--output=json", guest.disk]))["virtual-size"]);
      expect(await readFromDiskImage(file, "/etc/hostname")).toBe("debian-guest");
      expect(outcome.ui.lines).toContain("    qemu-img check: raw, nothing to check");
      await expectNothingLeft();
    },
    60_000,
  );

  test(
    "use_backing_file: the output is a small qcow2 overlay on the untouched base image",
    async () => {
      const outDir = join(work, "out-backing");
      const before = await sha256Of(guest.disk);
      const outcome = await runBuild(qemuBuilderFactory, { ...quick(outDir), use_backing_file: true, vm_name: "overlay.qcow2" }, async () => {});
      expect(outcome.error).toBeUndefined();
      const file = outcome.artifact!.files[0]!;
      const info = JSON.parse(await runText(["qemu-img", "info", "--output=json", file]));
      expect(info["backing-filename"]).toBe(guest.disk);
      expect((await stat(file)).size).toBeLessThan(64 * 2 ** 20);
      expect(await sha256Of(guest.disk)).toBe(before);
      await expectNothingLeft();
    },
    60_000,
  );
});

test("the written disk is checked: a clean qcow2 passes, one with a zeroed refcount table is refused", async () => {
  const raw = join(work, "check.raw");
  const disk = join(work, "check.qcow2");
  await Bun.write(raw, crypto.getRandomValues(new Uint8Array(65536)).buffer);
  await run(["qemu-img", "convert", "-q", "-O", "qcow2", raw, disk]);
  const signal = new AbortController().signal;
  await checkDisk(disk, "qcow2", signal);
  await checkDisk(raw, "raw", signal);
  const bytes = new Uint8Array(await Bun.file(disk).arrayBuffer());
  const refcountTable = Number(new DataView(bytes.buffer).getBigUint64(48));
  bytes.fill(0, refcountTable, refcountTable + 512);
  await Bun.write(disk, bytes);
  await expect(checkDisk(disk, "qcow2", signal)).rejects.toThrow(`the written disk ${disk} is not clean: qemu-img exited with status 2`);
});

test("base image is untouched by a checksum mismatch", async () => {
  const outcome = await runBuild(
    qemuBuilderFactory,
    { ...guestConfig(join(work, "out-sum")), iso_checksum: "sha256:" + "0".repeat(64), communicator: "none" },
    async () => {},
  );
  expect(outcome.failedStep).toBe("StepDownload");
  expect(String(outcome.error)).toContain("checksum mismatch");
  expect((await stat(guest.disk)).size).toBeGreaterThan(0);
}, 60_000);
