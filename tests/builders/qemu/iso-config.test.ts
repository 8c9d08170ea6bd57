// The qemu builder's install-from-ISO configuration without booting anything: Packer's defaults and
// refusals, the command line it builds (drives, CDs, floppy, EFI, TPM, VNC, -smp topology) and
// Packer's qemuargs merge rules; the extra CD and floppy are made and read back with xorriso and mtools.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseQemuConfig, smpArg, type QemuConfig } from "../../../core/builders/qemu/config.ts";
import { mergeQemuArgs, qemuArgv, type VmLayout } from "../../../core/builders/qemu/command-line.ts";
import { createCd, createFloppy } from "../../../core/builders/common/cd-floppy.ts";
import { runText } from "../../../core/process/child.ts";

const build = { buildName: "qemu.t", sourceName: "t", builderType: "qemu", generated: {}, placeholders: false };
const layout: VmLayout = { disks: ["/w/disk.qcow2"], hostPort: 3000, guestPort: 22, consoleLog: "/w/console.log", accelerator: "tcg" };

function config(over: Record<string, unknown>): QemuConfig {
  const r = parseQemuConfig({ iso_url: "http://127.0.0.1/x.iso", iso_checksum: "none", communicator: "none", ...over } as never, build);
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.summary).join("; "));
  return r.config;
}
const errors = (over: Record<string, unknown>) =>
  parseQemuConfig({ iso_url: "x.iso", iso_checksum: "none", communicator: "none", ...over } as never, build).diagnostics.map((d) => d.summary);

describe("configuration", () => {
  test("an install from an ISO: Packer's defaults", () => {
    const c = config({ boot_command: ["<enter>"] });
    expect(c).toMatchObject({ disk_size: "40960M", disk_cache: "writeback", disk_discard: "ignore", disk_detect_zeroes: "off", http_port_min: 8000, http_port_max: 9000, http_bind_address: "127.0.0.1", vnc_bind_address: "127.0.0.1", bootWaitMs: 10_000, tpm_device_type: "tpm-tis" });
    expect(config({}).bootWaitMs).toBe(0);
    expect(config({ net_bridge: "br0" }).http_bind_address).toBe("0.0.0.0");
    expect(config({ http_bind_address: "0.0.0.0" }).http_bind_address).toBe("0.0.0.0");
    expect(config({ boot_wait: "-1s", boot_command: ["a"] }).bootWaitMs).toBe(0);
    expect(config({ efi_boot: true })).toMatchObject({ efi_firmware_code: "/usr/share/OVMF/OVMF_CODE_4M.fd", efi_firmware_vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" });
    expect(config({ efi_firmware_code: "/c.fd", efi_firmware_vars: "/v.fd" }).efi_boot).toBe(true);
    expect(config({ ssh_wait_timeout: "7m", communicator: "ssh", ssh_username: "u", ssh_password: "p" }).ssh?.timeoutMs).toBe(420_000);
  });
  test("refusals say what is wrong", () => {
    expect(errors({ iso_url: "", iso_urls: [] })).toContain('qemu: one of "iso_url" or "iso_urls" must be specified');
    expect(errors({ iso_checksum: "sha256:abc" })).toContain("qemu: \"iso_checksum\": a sha256 digest has 64 hex digits, got 3");
    expect(errors({ http_directory: "h", http_content: { a: "b" } })).toContain("qemu: http_directory and http_content cannot both be set");
    expect(errors({ boot_command: ["a"], boot_steps: [["b"]] })).toContain('qemu: "boot_command" and "boot_steps" cannot both be set');
    expect(errors({ boot_command: ["a"], disable_vnc: true })).toContain("qemu: a boot command cannot be used when vnc is disabled");
    expect(errors({ disk_detect_zeroes: "maybe" })).toContain("qemu: \"disk_detect_zeroes\" must be one of off, on, unmap");
    expect(errors({ floppy_label: "MUCH-TOO-LONG" })).toContain('qemu: floppy_label "MUCH-TOO-LONG" is longer than 11 characters');
    expect(errors({ qemu_img_args: { shrink: [] } })).toContain('qemu: "qemu_img_args" must be an object with create, convert and resize lists of strings');
    expect(errors({ net_bridge: "br0", communicator: "ssh", ssh_username: "u", ssh_password: "p" })).toContain('qemu: net_bridge "br0" needs ssh_host: imgb does not discover the guest\'s address on a bridge');
    expect(errors({ bogus: 1 })).toContain(`qemu: unknown configuration key: '"bogus"'`);
  });
  test("-smp from cpus and the socket/core/thread topology (QemuSMPConfig)", () => {
    const smp = (cpus: number, sockets: number, cores: number, threads: number) => smpArg({ cpus, sockets, cores, threads });
    expect(smp(0, 0, 0, 0)).toBe("1");
    expect(smp(4, 0, 0, 0)).toBe("4");
    expect(smp(0, 2, 2, 0)).toBe("4,sockets=2,cores=2");
    expect(smp(8, 1, 2, 2)).toBe("4,sockets=1,cores=2,threads=2");
    expect(smp(2, 0, 4, 0)).toBe("2,cores=4");
  });
});

describe("the command line", () => {
  test("an ISO install: blank disk, the ISO and the extra CD as CD-ROMs, floppy, boot once from CD, VNC, monitor", () => {
    const c = config({ disk_detect_zeroes: "unmap", disk_discard: "unmap", cpu_model: "qemu64", vga: "std", cpus: 2 });
    const argv = qemuArgv(c, { ...layout, iso: "/c/x.iso", cd: "/w/cd.iso", floppy: "/w/floppy.img", vncPort: 5905, qmpSocket: "/w/qmp.sock" }).join(" ");
    expect(argv).toContain("-boot once=d");
    expect(argv).toContain("-drive file=/w/disk.qcow2,if=virtio,cache=writeback,discard=unmap,format=qcow2,detect-zeroes=unmap");
    expect(argv).toContain("-drive file=/c/x.iso,media=cdrom -drive file=/w/cd.iso,media=cdrom");
    expect(argv).toContain("-fda /w/floppy.img");
    expect(argv).toContain("-vnc 127.0.0.1:5");
    expect(argv).not.toContain("-display");
    expect(argv).toContain("-cpu qemu64");
    expect(argv).toContain("-vga std");
    expect(argv).toContain("-smp 2");
    expect(argv).toContain("-netdev user,id=user.0 ");
    expect(argv.endsWith("-qmp unix:/w/qmp.sock,server=on,wait=off")).toBe(true);
  });
  test("UEFI and a TPM: read-only code, the VM's own variables, swtpm's socket; no -boot", () => {
    const c = config({ efi_boot: true, vtpm: true, machine_type: "q35" });
    const argv = qemuArgv(c, { ...layout, efiVars: "/w/efivars.fd", tpmSocket: "/w/tpm.sock" }).join(" ");
    expect(argv).not.toContain("-boot");
    expect(argv).toContain("-machine type=q35,accel=tcg");
    expect(argv).toContain("-drive file=/usr/share/OVMF/OVMF_CODE_4M.fd,if=pflash,unit=0,format=raw,readonly=on -drive file=/w/efivars.fd,if=pflash,unit=1,format=raw");
    expect(argv).toContain("-chardev socket,id=vtpm,path=/w/tpm.sock -tpmdev emulator,id=tpm0,chardev=vtpm");
    expect(argv).toContain("-device tpm-tis,tpmdev=tpm0");
  });
  test("virtio-scsi disks and CDs get their controller and devices", () => {
    const c = config({ disk_interface: "virtio-scsi", cdrom_interface: "virtio-scsi" });
    const argv = qemuArgv(c, { ...layout, disks: ["/w/a.qcow2", "/w/b.qcow2"], iso: "/c/x.iso" }).join(" ");
    expect(argv).toContain("-device virtio-scsi-pci,id=scsi0 -device scsi-hd,bus=scsi0.0,drive=drive0 -device scsi-hd,bus=scsi0.0,drive=drive1");
    expect(argv).toContain("-drive if=none,file=/w/a.qcow2,id=drive0,cache=writeback,discard=ignore,format=qcow2");
    expect(argv).toContain("-drive file=/c/x.iso,if=none,index=2,id=cdrom0,media=cdrom");
  });
  test("qemuargs: a flag replaces all its defaults, a row's values are joined, a bare flag has no value, -device keeps the NIC", () => {
    const defaults = new Map([["-m", ["512M"]], ["-device", ["virtio-net,netdev=user.0", "virtio-rng-pci"]], ["-drive", ["file=a", "file=b"]]]);
    const merged = mergeQemuArgs(defaults, [["-drive", "file=c"], ["-drive", "file=", "d"], ["-device", "virtio-tablet"], ["-no-reboot"], ["-m", "1G"]], "virtio-net");
    expect(merged).toEqual([
      ["-m", ["1G"]],
      ["-device", ["virtio-tablet", "virtio-net,netdev=user.0"]],
      ["-drive", ["file=c", "file=d"]],
      ["-no-reboot", []],
    ]);
    const c = config({ qemuargs: [["-display", "none"], ["-serial", "stdio"]] });
    const argv = qemuArgv(c, layout).join(" ");
    expect(argv).toContain("-display none");
    expect(argv).toContain("-serial stdio");
    expect(argv).not.toContain("console.log");
  });
});

describe("extra CD and floppy", () => {
  let work = "";
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "imgb-cdfloppy-test-"));
    await mkdir(join(work, "src/dir/sub"), { recursive: true });
    await writeFile(join(work, "src/a.txt"), "A");
    await writeFile(join(work, "src/b.cfg"), "B");
    await writeFile(join(work, "src/dir/sub/c.txt"), "C");
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  test("cd_files (files, globs, a folder with and without a trailing slash), cd_content and cd_label", async () => {
    const signal = new AbortController().signal;
    const iso = await createCd(
      { cd_files: ["src/a.txt", "src/*.cfg", "src/dir", "src/dir/"], cd_content: { "meta-data": "instance-id: x", "/deep/user-data": "#cloud-config" }, cd_label: "cidata" },
      { workDir: work, baseDir: work, signal },
    );
    const listing = await runText(["xorriso", "-indev", iso, "-find", "/", "-type", "f"], {});
    for (const f of ["/a.txt", "/b.cfg", "/dir/sub/c.txt", "/sub/c.txt", "/meta-data", "/deep/user-data"]) expect(listing).toContain(`'${f}'`);
    const pvd = new Uint8Array(await Bun.file(iso).slice(0x8000 + 40, 0x8000 + 72).arrayBuffer());
    expect(new TextDecoder().decode(pvd).trim()).toBe("cidata");
    await expect(createCd({ cd_files: ["src/none*.txt"], cd_content: {}, cd_label: "" }, { workDir: join(work, "w2"), baseDir: work, signal })).rejects.toThrow("src/none*.txt matches no file");
  });

  test("floppy_files to the root, floppy_dirs with their folder, floppy_content, floppy_label", async () => {
    const img = await createFloppy(
      { floppy_files: ["src/*.txt"], floppy_dirs: ["src/dir"], floppy_content: { "autounattend.xml": "<xml/>" }, floppy_label: "packer" },
      { workDir: work, baseDir: work, signal: new AbortController().signal },
    );
    expect((await Bun.file(img).arrayBuffer()).byteLength).toBe(1440 * 1024);
    expect(await runText(["mtype", "-i", img, "::/a.txt"])).toBe("A");
    expect(await runText(["mtype", "-i", img, "::/dir/sub/c.txt"])).toBe("C");
    expect(await runText(["mtype", "-i", img, "::/autounattend.xml"])).toBe("<xml/>");
    expect(await runText(["mlabel", "-s", "-i", img, "::"])).toContain("PACKER");
  });
});
