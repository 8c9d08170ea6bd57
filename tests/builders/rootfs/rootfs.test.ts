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
import { debianMinbaseTarball } from "../../support/images.ts";
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
