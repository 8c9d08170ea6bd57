// docker builder options public templates use, through the compiled binary against real podman:
// uploads into a container run as another user (packer-plugin-docker's fix_upload_owner fixture),
// the upload's modification time, an upload failure's reason, run_command rendered as a Packer
// template, and the login options.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { podmanBaseImage } from "../support/images.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), "imgb-e2e-docker-opts-"));
  dirs.push(d);
  return d;
}

describe("docker builder uploads", () => {
  // hashicorp/packer-plugin-docker builder/docker/test-fixtures/fix_upload_owner.pkr.hcl: the
  // container runs as uid 42; uploads (one to /etc, which uid 42 cannot write) end up owned by 42.
  test("copied as root, then owned by the container's user; mtime kept; run_command renders template functions", async () => {
    const image = await podmanBaseImage();
    const dir = workDir();
    writeFileSync(join(dir, "strawberry"), "cake\n");
    utimesSync(join(dir, "strawberry"), new Date("2001-02-03T04:05:06Z"), new Date("2001-02-03T04:05:06Z"));
    writeFileSync(
      join(dir, "t.pkr.hcl"),
      `variable "flavour" {
  type    = string
  default = "vanilla"
}
source "docker" "owner" {
  image       = "${image}"
  pull        = false
  discard     = true
  run_command = ["-d", "-i", "-t", "-u", "42", "-e", "TAG={{build_name}}-{{user \`flavour\`}}", "--entrypoint=/bin/sh", "--", "{{ .Image }}"]
}
build {
  sources = ["source.docker.owner"]
  provisioner "file" {
    source      = "strawberry"
    destination = "/etc/strawberry-cake"
  }
  provisioner "shell" {
    inline = [
      "echo owner=$(stat -c %u /etc/strawberry-cake) mtime=$(date -u -r /etc/strawberry-cake +%Y-%m-%dT%H:%M:%S) me=$(id -u)",
      "echo tag=$TAG",
    ]
  }
}
`,
    );
    const r = await runImgb(["build", "-color=false", "."], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("owner=42 mtime=2001-02-03T04:05:06 me=42");
    // {{build_name}} is Packer's packer_build_name: the source's name, "owner" (hcl2template's builderVariables).
    expect(r.stdout).toContain("tag=owner-vanilla");
  }, 300_000);

  test("an upload that fails says why", async () => {
    const image = await podmanBaseImage();
    const dir = workDir();
    writeFileSync(join(dir, "f.txt"), "x\n");
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "docker", image, pull: false, discard: true }],
        provisioners: [{ type: "file", source: "f.txt", destination: "/no/such/dir/f.txt" }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/upload to \/no\/such\/dir\/f\.txt failed \(exit \d+\): \S+/);
    // Either the shell's own words or, when the exec session lost them, imgb's diagnosis.
    expect(r.stdout).toMatch(/nonexistent|No such file|the folder \/no\/such\/dir does not exist/i);
  }, 300_000);
});

describe("docker builder login options", () => {
  // HappyPathway/terraform-packer-chef-docker and others set login/login_server/...; ECR needs AWS.
  test("login options are accepted; ecr_login is a clear error naming what it needs", async () => {
    const dir = workDir();
    const base = { type: "docker", image: "debian", commit: true, login: true, login_server: "registry.example:5000", login_username: "u", login_password: "p" };
    writeFileSync(join(dir, "login.json"), JSON.stringify({ builders: [base] }));
    const ok = await runImgb(["validate", "login.json"], { cwd: dir });
    expect(ok.stderr).toBe("");
    expect(ok.exitCode).toBe(0);
    writeFileSync(join(dir, "ecr.json"), JSON.stringify({ builders: [{ ...base, login: false, ecr_login: true, login_server: "1.dkr.ecr.us-east-1.amazonaws.com" }] }));
    const ecr = await runImgb(["validate", "ecr.json"], { cwd: dir });
    expect(ecr.exitCode).toBe(1);
    expect(ecr.stderr).toContain("ecr_login needs AWS credentials");
    expect(ecr.stderr).toContain("--password-stdin 1.dkr.ecr.us-east-1.amazonaws.com");
  });

  test("a failing login stops before pulling, names the server and user, and never prints the password", async () => {
    const dir = workDir();
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "docker", image: "127.0.0.1:9/imgb/none", discard: true, login: true, login_server: "127.0.0.1:9", login_username: "someone", login_password: "pw-secret-1234" }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Error logging in to 127.0.0.1:9 as someone");
    expect(r.stdout + r.stderr).not.toContain("pw-secret-1234");
    expect(r.stdout).not.toContain("Pulling Docker image");
  }, 180_000);
});
