// The rootfs builder for real: mmdebstrap or a cached Debian tarball, provisioned in the chroot
// communicator's namespaces, written as tar/zstd/ext4/qcow2/OCI and read back with tar, debugfs,
// qemu-img and podman.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootfsBuilderFactory } from "../../../core/builders/rootfs/index.ts";
import { parseDeb822, parseSourcesList, pickMirror } from "../../../core/builders/rootfs/apt-mirror.ts";
import { run, runText } from "../../../core/process/child.ts";
import { mountsUnder, removeTreeSafely } from "../../../core/builders/rootfs/safe-remove.ts";
import { debianMinbaseTarball, partitionOffset, readFromDiskImage } from "../../support/images.ts";
import type { JsonObject } from "../../../core/values/json.ts";
import { kernelCommandLine, mbrPartitionTable } from "../../../core/builders/rootfs/bootable-disk.ts";
import { leftovers, runBuild, sh } from "../docker/harness.ts";

let work = "";
let tarball = "";
const signal = () => new AbortController().signal;

let netnsBefore: string[] = [];
beforeAll(async () => {
  netnsBefore = (await leftovers()).netns;
  tarball = await debianMinbaseTarball();
  work = await mkdtemp(join(tmpdir(), "imgb-rootfs-test-"));
}, 180_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function expectNothingLeft() {
  const left = await leftovers("imgb-rootfs-");
  expect(left.netns.filter((n) => !netnsBefore.includes(n))).toEqual([]);
  expect(left.children).toEqual([]);
  expect(left.mounts).toEqual([]);
  expect(left.loops).toEqual([]);
}

describe("apt mirror discovery", () => {
  test("reads one-line and deb822 sources and skips security/updates", () => {
    const deb822 = parseDeb822(
      "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n" +
        "Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib\n",
    );
    expect(pickMirror(deb822)).toBe("http://mirror.example/debian");
    const oneLine = parseSourcesList("# comment\ndeb-src http://x/ bookworm main\ndeb [arch=amd64] http://y/debian bookworm main\n");
    expect(pickMirror(oneLine)).toBe("http://y/debian");
    expect(pickMirror(parseDeb822("Types: deb\nEnabled: no\nURIs: http://z/\nSuites: bookworm\nComponents: main\n"))).toBeUndefined();
  });
});

describe("removing a root filesystem folder", () => {
  test("unmounts what is mounted under it first, so the mount's source survives", async () => {
    const precious = join(work, "precious");
    const tree = join(work, "tree with space");
    await mkdir(precious, { recursive: true });
    await writeFile(join(precious, "keep"), "x");
    await mkdir(join(tree, "dev"), { recursive: true });
    await run(["mount", "--bind", precious, join(tree, "dev")]);
    expect(await mountsUnder(tree)).toEqual([join(tree, "dev")]);
    await removeTreeSafely(tree);
    expect(existsSync(tree)).toBe(false);
    expect(await readFile(join(precious, "keep"), "utf8")).toBe("x");
    expect(await mountsUnder(tree)).toEqual([]);
  });
});

describe("rootfs builder config", () => {
  const build = { buildName: "rootfs.x", sourceName: "x", builderType: "rootfs", generated: {}, placeholders: true };
  test("rejects unknown formats, variants and sizes; fills defaults", () => {
    const bad = rootfsBuilderFactory.create({ formats: ["iso"], variant: "huge", disk_size: "lots" }, build);
    const text = bad.diagnostics.map((d) => d.summary).join("\n");
    expect(text).toContain('formats: "iso" is not one of');
    expect(text).toContain('"variant" must be one of');
    expect(text).toContain('"disk_size": "lots"');
    const good = rootfsBuilderFactory.create({}, build);
    expect(good.diagnostics).toEqual([]);
    expect(good.builder?.steps().map((s) => s.name)).toContain("StepProvision");
  });
  test("a bootloader needs a disk format and is one imgb knows", () => {
    const text = (config: JsonObject) => rootfsBuilderFactory.create(config, build).diagnostics.map((d) => d.summary).join("\n");
    expect(text({ bootloader: "grub", formats: ["qcow2"] })).toContain('"bootloader" must be one of none, syslinux');
    expect(text({ bootloader: "syslinux", formats: ["tar"] })).toContain('add "raw" or "qcow2" to formats');
    expect(text({ bootloader: "syslinux", formats: ["raw"], kernel_args: "a\nb" })).toContain('"kernel_args" must be one line');
    expect(text({ bootloader: "syslinux", formats: ["raw"] })).toBe("");
  });
});

describe("MBR partition table", () => {
  test("entries, LBA markers, boot flag and signature at the fixed MBR offsets", () => {
    const t = mbrPartitionTable(
      [
        { bootable: true, type: 0x0c, startSector: 2048, sectors: 131072 },
        { bootable: false, type: 0x83, startSector: 133120, sectors: 1000 },
      ],
      0x12345678,
    );
    expect(t.length).toBe(72);
    const v = new DataView(t.buffer);
    expect(v.getUint32(0, true)).toBe(0x12345678);
    expect([...t.subarray(6, 22)]).toEqual([0x80, 0xfe, 0xff, 0xff, 0x0c, 0xfe, 0xff, 0xff, 0x00, 0x08, 0, 0, 0x00, 0x00, 0x02, 0]);
    expect(t[22]).toBe(0);
    expect(v.getUint32(22 + 8, true)).toBe(133120);
    expect([...t.subarray(38, 70)].every((b) => b === 0)).toBe(true);
    expect([t[70], t[71]]).toEqual([0x55, 0xaa]);
    expect(() => mbrPartitionTable([{ bootable: false, type: 0x83, startSector: 2 ** 32 - 10, sectors: 100 }], 0)).toThrow("2 TiB");
    expect(kernelCommandLine("console=ttyS0", "u-1")).toBe("root=UUID=u-1 rw console=ttyS0");
    expect(kernelCommandLine("root=/dev/sda2 ro", "u-1")).toBe("root=/dev/sda2 ro");
  });
});

describe("rootfs builder", () => {
  test(
    "from a tarball: provisioned in the chroot, written as tar, tar.zst, ext4, qcow2 and OCI",
    async () => {
      const outDir = join(work, "out-all");
      const hostResolv = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
      const upload = join(work, "motd");
      await writeFile(upload, "built by imgb\n");
      await chmod(upload, 0o640);
      const outcome = await runBuild(
        rootfsBuilderFactory,
        {
          source_tarball: tarball,
          output_directory: outDir,
          image_name: "deb",
          formats: ["tar", "tar.zst", "ext4", "qcow2", "oci"],
          image_ref: "localhost/imgb-test/rootfs-oci:v1",
        },
        async (comm) => {
          const inside = await sh(
            comm,
            "echo provisioned > /etc/imgb-provisioned && echo ok > /dev/null && ls /proc/1/ >/dev/null && echo pid=$$ && cat /etc/resolv.conf && test -c /dev/urandom && test -d /dev/pts && echo devs-ok",
          );
          expect(inside.result).toEqual({ kind: "exited", exitStatus: 0 });
          expect(inside.stdout).toBe(`pid=1\n${hostResolv}devs-ok\n`);
          expect((await sh(comm, "exit 42")).result).toEqual({ kind: "exited", exitStatus: 42 });
          await comm.upload("/etc/motd", { kind: "file", path: upload }, {}, signal());
        },
      );
      expect(outcome.error).toBeUndefined();
      const a = outcome.artifact!;
      expect(a.builderId).toBe("imgb.rootfs");
      expect(a.files.map((f) => f.slice(outDir.length + 1)).sort()).toEqual(["deb.ext4", "deb.oci.tar", "deb.qcow2", "deb.tar", "deb.tar.zst"]);

      expect(await runText(["tar", "-xOf", join(outDir, "deb.tar"), "./etc/imgb-provisioned"])).toBe("provisioned");
      expect(await runText(["tar", "-tvf", join(outDir, "deb.tar"), "./etc/motd"])).toStartWith("-rw-r-----");
      // The host's resolv.conf was only lent: the image has its own again.
      const original = await runText(["tar", "-xOf", tarball, "./etc/resolv.conf"]).catch(() => "");
      expect(await runText(["tar", "-xOf", join(outDir, "deb.tar"), "./etc/resolv.conf"]).catch(() => "")).toBe(original);
      expect(await runText(["tar", "--zstd", "-xOf", join(outDir, "deb.tar.zst"), "./etc/imgb-provisioned"])).toBe("provisioned");
      expect(await runText(["debugfs", "-R", "cat /etc/imgb-provisioned", join(outDir, "deb.ext4")])).toBe("provisioned");
      const info = JSON.parse(await runText(["qemu-img", "info", "--output=json", join(outDir, "deb.qcow2")]));
      expect(info.format).toBe("qcow2");
      const raw = join(work, "from-qcow2.raw");
      await run(["qemu-img", "convert", "-O", "raw", join(outDir, "deb.qcow2"), raw]);
      expect(await runText(["debugfs", "-R", "cat /etc/motd", raw])).toBe("built by imgb");
      await rm(raw);

      const loaded = await runText(["podman", "load", "-q", "-i", join(outDir, "deb.oci.tar")]);
      expect(loaded).toContain("localhost/imgb-test/rootfs-oci:v1");
      try {
        const ran = await runText([
          "podman", "run", "--rm", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000",
          "localhost/imgb-test/rootfs-oci:v1", "cat", "/etc/imgb-provisioned",
        ]);
        expect(ran).toBe("provisioned");
      } finally {
        await run(["podman", "rmi", "localhost/imgb-test/rootfs-oci:v1"]);
      }
      await a.destroy();
      for (const f of a.files) expect(existsSync(f)).toBe(false);
      await expectNothingLeft();
    },
    180_000,
  );

  test(
    "bootloader = syslinux: raw and qcow2 are BIOS-bootable disks (MBR, FAT with syslinux and the kernel, ext4 root); ext4 stays bare",
    async () => {
      const outDir = join(work, "out-boot");
      const kernelBytes = crypto.getRandomValues(new Uint8Array(65536));
      const outcome = await runBuild(
        rootfsBuilderFactory,
        { source_tarball: tarball, output_directory: outDir, image_name: "deb", formats: ["ext4", "raw", "qcow2"], bootloader: "syslinux", disk_size: "1G" },
        async (comm) => {
          await comm.upload("/boot/vmlinuz-6.0.0-test", { kind: "bytes", data: kernelBytes }, {}, signal());
          await comm.upload("/boot/initrd.img-6.0.0-test", { kind: "bytes", data: new Uint8Array(4096) }, {}, signal());
          expect((await sh(comm, "echo provisioned > /etc/imgb-provisioned")).result).toEqual({ kind: "exited", exitStatus: 0 });
        },
      );
      expect(outcome.error).toBeUndefined();
      const a = outcome.artifact!;
      expect(a.files.map((f) => f.slice(outDir.length + 1)).sort()).toEqual(["deb.ext4", "deb.initrd", "deb.qcow2", "deb.raw", "deb.vmlinuz"]);
      const uuid = String(a.state["root_uuid"]);
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);

      const raw = join(outDir, "deb.raw");
      expect(Bun.file(raw).size).toBe(2 ** 30);
      const head = new Uint8Array(await Bun.file(raw).slice(0, 512).arrayBuffer());
      expect(head.subarray(0, 440)).toEqual((await Bun.file("/usr/lib/syslinux/mbr/mbr.bin").bytes()).subarray(0, 440));
      expect([head[446], head[450], head[462], head[466], head[510], head[511]]).toEqual([0x80, 0x0c, 0x00, 0x83, 0x55, 0xaa]);
      const rootOffset = await partitionOffset(raw, 2);
      expect(await partitionOffset(raw, 1)).toBe(2 ** 20);

      const fat = `${raw}@@${2 ** 20}`;
      const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };
      const cfg = await runText(["mtype", "-i", fat, "::/syslinux.cfg"], { env });
      expect(cfg).toContain("LINUX /vmlinuz\n  INITRD /initrd.img\n");
      expect(cfg).toContain(`APPEND root=UUID=${uuid} rw console=tty0 console=ttyS0,115200`);
      expect(await runText(["mdir", "-a", "-b", "-i", fat, "::/"], { env })).toContain("::/ldlinux.sys");
      await run(["mcopy", "-i", fat, "::/vmlinuz", join(work, "vmlinuz-back")], { env });
      expect(await Bun.file(join(work, "vmlinuz-back")).bytes()).toEqual(kernelBytes);

      const part = `${raw}?offset=${rootOffset}`;
      expect(await runText(["debugfs", "-R", "cat /etc/imgb-provisioned", part])).toBe("provisioned");
      expect(await runText(["debugfs", "-R", "stats", part])).toMatch(new RegExp(`Filesystem UUID:\\s+${uuid}`));
      expect(await readFromDiskImage(join(outDir, "deb.qcow2"), "/etc/imgb-provisioned")).toBe("provisioned");
      expect(await runText(["debugfs", "-R", "cat /etc/imgb-provisioned", join(outDir, "deb.ext4")])).toBe("provisioned");
      expect(outcome.ui.lines.some((l) => l.includes(`Kernel command line: root=UUID=${uuid} rw`))).toBe(true);
      await expectNothingLeft();
    },
    120_000,
  );

  test(
    "bootloader without a kernel in /boot fails naming the package to add, and leaves no output",
    async () => {
      const outDir = join(work, "out-nokernel");
      const outcome = await runBuild(
        rootfsBuilderFactory,
        { source_tarball: tarball, output_directory: outDir, formats: ["qcow2"], bootloader: "syslinux" },
        async () => {},
      );
      expect(outcome.failedStep).toBe("StepWriteFormats");
      expect(String(outcome.error)).toContain("needs a kernel in the image's /boot: add linux-image-amd64");
      expect(existsSync(outDir)).toBe(false);
      await expectNothingLeft();
    },
    60_000,
  );

  test(
    "cancelling during provisioning kills the chroot's processes and leaves no output",
    async () => {
      const outDir = join(work, "out-cancel");
      const ctl = new AbortController();
      const started = performance.now();
      const outcome = await runBuild(
        rootfsBuilderFactory,
        { source_tarball: tarball, output_directory: outDir },
        async (comm) => {
          setTimeout(() => ctl.abort(), 300);
          await sh(comm, "sleep 100 & sleep 100; wait", ctl.signal);
        },
        ctl.signal,
      );
      expect(String(outcome.error)).toContain("cancelled");
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(existsSync(outDir)).toBe(false);
      await expectNothingLeft();
    },
    60_000,
  );

  test(
    "a failing provisioner removes the work and output folders; an existing output dir is refused",
    async () => {
      const outDir = join(work, "out-fail");
      const failed = await runBuild(rootfsBuilderFactory, { source_tarball: tarball, output_directory: outDir }, async () => {
        throw new Error("provisioner failed on purpose");
      });
      expect(failed.failedStep).toBe("StepProvision");
      expect(existsSync(outDir)).toBe(false);
      await expectNothingLeft();

      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, "keep"), "x");
      const refused = await runBuild(rootfsBuilderFactory, { source_tarball: tarball, output_directory: outDir }, async () => {});
      expect(refused.failedStep).toBe("StepOutputDir");
      expect(await readFile(join(outDir, "keep"), "utf8")).toBe("x");
    },
    60_000,
  );

  test(
    "mmdebstrap: suite, variant and packages from the config, mirror from apt's sources",
    async () => {
      const outDir = join(work, "out-mm");
      const outcome = await runBuild(
        rootfsBuilderFactory,
        { suite: "bookworm", variant: "essential", packages: ["hello"], output_directory: outDir, image_name: "ess", formats: ["tar.gz"] },
        async (comm) => {
          const hello = await sh(comm, "hello");
          expect(hello.stdout).toBe("Hello, world!\n");
        },
      );
      expect(outcome.error).toBeUndefined();
      expect(outcome.ui.lines.some((l) => l.includes("with mmdebstrap (mirror "))).toBe(true);
      const listing = await runText(["tar", "-tzf", join(outDir, "ess.tar.gz")]);
      expect(listing).toContain("./usr/bin/hello");
      await expectNothingLeft();
    },
    180_000,
  );
});
