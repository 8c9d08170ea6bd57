// `required_plugins` as public templates write them, through the compiled binary:
//   - HashiCorp's getting-started template (the "learn-packer" tutorial's docker-ubuntu.pkr.hcl,
//     byte for byte) inits with no download (the docker plugin is built in), validates and builds on
//     podman. No registry is reachable here, so podman pulls `ubuntu:jammy` from a real OCI registry
//     on loopback (Debian's docker-registry) configured as docker.io's mirror, holding the test base image;
//   - `imgb init` reads only packer {} blocks, as Packer's does;
//   - an unknown component type says which plugin provides it and that `imgb init` installs it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { podmanBaseImage } from "../support/images.ts";
import { startOciRegistry } from "../support/oci-registry.ts";

// From HashiCorp's "Build an image" tutorial (docker-ubuntu.pkr.hcl), unchanged.
const GETTING_STARTED = `packer {
  required_plugins {
    docker = {
      version = ">= 1.0.8"
      source = "github.com/hashicorp/docker"
    }
  }
}

source "docker" "ubuntu" {
  image  = "ubuntu:jammy"
  commit = true
}

build {
  name    = "learn-packer"
  sources = [
    "source.docker.ubuntu"
  ]
}
`;

let base: string;
const env = (): Record<string, string> => ({ HOME: join(base, "home"), XDG_CONFIG_HOME: "", XDG_STATE_HOME: "", XDG_CACHE_HOME: "", IMGB_REGISTRY_URL: "", IMGB_REGISTRY_ROOT: "" });

async function dirWith(name: string, text: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "t.pkr.hcl"), text);
  return dir;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "imgb-e2e-required-plugins-"));
  await mkdir(join(base, "home"), { recursive: true });
});
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe("required_plugins", () => {
  test("HashiCorp's getting-started template: init (docker is built in), validate and build on podman, unchanged", async () => {
    const image = await podmanBaseImage();
    const oci = await startOciRegistry();
    const tag = `${oci.host}/library/ubuntu:jammy`;
    let built: string | undefined;
    try {
      const push = Bun.spawnSync(["podman", "push", "-q", "--tls-verify=false", image, tag]);
      expect(push.exitCode, push.stderr.toString()).toBe(0);
      const conf = join(base, "registries.conf");
      await writeFile(
        conf,
        [
          'unqualified-search-registries = ["docker.io"]',
          'short-name-mode = "permissive"',
          "[[registry]]",
          'prefix = "docker.io"',
          'location = "docker.io"',
          "[[registry.mirror]]",
          `location = "${oci.host}"`,
          "insecure = true",
          "",
        ].join("\n"),
      );
      const dir = await dirWith("getting-started", GETTING_STARTED);
      const run = (args: string[]) => runImgb(args, { cwd: dir, env: { ...env(), CONTAINERS_REGISTRIES_CONF: conf }, timeoutMs: 180_000 });
      const init = await run(["init", "t.pkr.hcl"]);
      expect(init.exitCode, init.stdout + init.stderr).toBe(0);
      expect(init.stdout).toContain("github.com/hashicorp/docker: built into imgb (docker builder; docker-tag, docker-save, docker-import, docker-push post-processors); nothing to download");
      const validate = await run(["validate", "t.pkr.hcl"]);
      expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0);
      const build = await run(["build", "-color=false", "t.pkr.hcl"]);
      expect(build.exitCode, build.stdout + build.stderr).toBe(0);
      expect(build.stdout).toContain("Pulling Docker image: ubuntu:jammy");
      built = /Imported Docker image: (\S+)/.exec(build.stdout)?.[1] ?? /sha256:([0-9a-f]{64})/.exec(build.stdout)?.[1];
      expect(built, build.stdout).toBeTruthy();
    } finally {
      if (built) Bun.spawnSync(["podman", "rmi", "-f", built]);
      Bun.spawnSync(["podman", "rmi", "-f", tag]);
      await oci.stop();
    }
  }, 300_000);

  test("init reads only packer {} blocks: unset variables, unknown data sources and builders elsewhere do not stop it", async () => {
    const dir = await dirWith(
      "only-packer-block",
      `packer {
  required_plugins {
    qemu = { source = "github.com/hashicorp/qemu", version = "~> 1" }
    ansible = { source = "github.com/hashicorp/ansible", version = ">= 1.1.0" }
  }
}
variable "region" { type = string }
data "amazon-ami" "base" { region = var.region }
source "amazon-ebs" "x" { source_ami = data.amazon-ami.base.id }
build { sources = ["source.amazon-ebs.x"] }
`,
    );
    const r = await runImgb(["init", "t.pkr.hcl"], { cwd: dir, env: env() });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("github.com/hashicorp/qemu: built into imgb (qemu builder)");
    expect(r.stdout).toContain("github.com/hashicorp/ansible: built into imgb (ansible, ansible-local provisioners)");
    expect(r.stdout).toContain("2 plugin(s) built into imgb");
  }, 30_000);

  test("an unknown builder names the plugin that provides it and that imgb init installs it", async () => {
    const dir = await dirWith("unknown", `source "amazon-ebs" "x" {\n  region = "us-east-1"\n}\nbuild {\n  sources = ["source.amazon-ebs.x"]\n}\n`);
    const r = await runImgb(["validate", "t.pkr.hcl"], { cwd: dir, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Unknown builder amazon-ebs");
    expect(r.stderr).toContain('it is part of the plugin github.com/hashicorp/amazon, which is not installed');
    expect(r.stderr).toContain('run "imgb init" to install it');
  }, 30_000);
});
