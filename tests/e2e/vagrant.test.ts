// The vagrant post-processor through the compiled binary: a qcow2 disk becomes a libvirt box and a
// committed podman image a docker box; Debian's vagrant accepts both (`vagrant box add`), and the
// box holds what vagrant-libvirt reads: metadata.json (provider, format, virtual_size in GiB), a
// Vagrantfile, and the disk as box.img, byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { podmanBaseImage } from "../support/images.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-vagrant-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function sh(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { code: number; out: string } {
  const p = Bun.spawnSync(argv, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

/** `vagrant box add` with a HOME of its own; the folder vagrant unpacked the box to. */
async function vagrantBoxAdd(box: string, name: string, provider: string): Promise<string> {
  const home = mkdtempSync(join(dir, "home-"));
  const p = Bun.spawn(["vagrant", "box", "add", "--name", name, box], {
    env: { ...process.env, HOME: home, VAGRANT_CHECKPOINT_DISABLE: "1", VAGRANT_HOME: join(home, ".vagrant.d") },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  expect(code, out + err).toBe(0);
  expect(out).toContain(`Successfully added box '${name}' (v0) for '${provider}'!`);
  return join(home, ".vagrant.d", "boxes", name, "0", provider);
}

describe("vagrant post-processor", () => {
  test("a qcow2 disk becomes a libvirt box that vagrant adds; metadata and disk are vagrant-libvirt's", async () => {
    const disk = join(dir, "disk.qcow2");
    expect(sh(["qemu-img", "create", "-q", "-f", "qcow2", disk, "3G"]).code).toBe(0);
    writeFileSync(join(dir, "extra.txt"), "shipped in the box\n");
    writeFileSync(join(dir, "Vagrantfile.tpl"), 'Vagrant.configure("2") { |c| c.vm.hostname = "imgb" }\n');
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        "post-processors": [
          [
            { type: "artifice", files: ["disk.qcow2"] },
            { type: "vagrant", provider_override: "libvirt", include: ["extra.txt"], vagrantfile_template: "Vagrantfile.tpl", keep_input_artifact: true },
          ],
        ],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const box = join(dir, "packer_null_libvirt.box");
    expect(r.stdout).toContain("Creating a Vagrant box for 'libvirt' provider");
    expect(r.stdout).toContain(`--> null: 'libvirt' provider box: packer_null_libvirt.box`);
    expect(sh(["tar", "-tzf", box]).out.trim().split("\n")).toEqual(["metadata.json", "Vagrantfile", "box.img", "extra.txt"]);

    const added = await vagrantBoxAdd(box, "imgb-libvirt", "libvirt");
    expect(JSON.parse(readFileSync(join(added, "metadata.json"), "utf8"))).toEqual({ format: "qcow2", provider: "libvirt", virtual_size: 3 });
    expect(readFileSync(join(added, "metadata.json"), "utf8")).toBe('{"format":"qcow2","provider":"libvirt","virtual_size":3}');
    expect(sha(join(added, "box.img"))).toBe(sha(disk));
    const vagrantfile = readFileSync(join(added, "Vagrantfile"), "utf8");
    expect(vagrantfile).toContain("config.vm.provider :libvirt do |libvirt|");
    expect(vagrantfile).toContain('libvirt.driver = "kvm"');
    expect(vagrantfile).toContain('c.vm.hostname = "imgb"');
    expect(readFileSync(join(added, "extra.txt"), "utf8")).toBe("shipped in the box\n");
    // The Vagrantfile is Ruby vagrant can load: `box add` parsed it; `vagrant init` + validate would need the provider plugin.
  }, 120_000);

  test("compression_level = 0 writes a plain tar; output takes {{.Provider}} and {{.BuildName}}", async () => {
    expect(sh(["qemu-img", "create", "-q", "-f", "qcow2", join(dir, "disk0.qcow2"), "1G"]).code).toBe(0);
    writeFileSync(
      join(dir, "t0.json"),
      JSON.stringify({
        builders: [{ type: "null", name: "plain", communicator: "none" }],
        "post-processors": [
          [
            { type: "artifice", files: ["disk0.qcow2"] },
            { type: "vagrant", provider_override: "libvirt", compression_level: 0, output: "boxes/{{ .BuildName }}-{{ .Provider }}.box", keep_input_artifact: true },
          ],
        ],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t0.json"], { cwd: dir, timeoutMs: 60_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("--> plain: 'libvirt' provider box: boxes/plain-libvirt.box");
    const box = join(dir, "boxes", "plain-libvirt.box");
    expect(sh(["tar", "-tf", box]).out.trim().split("\n")).toEqual(["metadata.json", "Vagrantfile", "box.img"]);
    expect(readFileSync(box).subarray(257, 262).toString()).toBe("ustar");
  }, 60_000);

  test("an artifact it cannot box is a clear error naming the builder id", async () => {
    writeFileSync(
      join(dir, "bad.json"),
      JSON.stringify({ builders: [{ type: "file", target: "x.txt", content: "x" }], "post-processors": [{ type: "vagrant" }] }),
    );
    const r = await runImgb(["build", "-color=false", "bad.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Unknown artifact type, can't build box: packer.file");
    expect(existsSync(join(dir, "packer_file_libvirt.box"))).toBe(false);
  });

  test("a committed podman image becomes a docker box naming the image", async () => {
    const image = await podmanBaseImage();
    writeFileSync(
      join(dir, "d.json"),
      JSON.stringify({
        builders: [{ type: "docker", image, pull: false, commit: true }],
        "post-processors": [{ type: "vagrant" }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "d.json"], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const id = /Imported Docker image: ([0-9a-f]{64})/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    try {
      const added = await vagrantBoxAdd(join(dir, "packer_docker_docker.box"), "imgb-docker", "docker");
      expect(readFileSync(join(added, "metadata.json"), "utf8")).toBe('{"provider":"docker"}');
      expect(readFileSync(join(added, "Vagrantfile"), "utf8")).toContain(`docker.image = "${id}"`);
      expect(readdirSync(added).sort()).toEqual(["Vagrantfile", "metadata.json"]);
    } finally {
      sh(["podman", "rmi", "-f", id!]);
    }
  }, 120_000);
});
