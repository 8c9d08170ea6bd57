// The provisioners through the real CLI (`bun cmd/main.ts build`), legacy JSON and HCL2: a null
// builder connected over SSH to a real OpenSSH server runs shell (late execute_command), file up and
// down, and a disabled breakpoint, with the working directory at the template's folder as users do.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildAll } from "../../plugins-wasm/build.ts";
import { startSshd, stopAllSshd, type Sshd } from "../support/sshd.ts";
import { nullBuilder } from "../../core/builders/null/index.ts";

/** The null builder connects over SSH once its schema takes the ssh_* keys; until then these wait. */
const nullSpeaksSsh = nullBuilder.schema.fields.some((f) => f.name === "ssh_host");

const MAIN = join(import.meta.dir, "..", "..", "cmd", "main.ts");
let sshd: Sshd;
let dir: string;

beforeAll(async () => {
  if (!nullSpeaksSsh) return;
  await buildAll();
  sshd = await startSshd();
  mkdirSync(join(process.cwd(), "tests", ".tmp"), { recursive: true });
  dir = mkdtempSync(join(process.cwd(), "tests", ".tmp", "prov-cli-"));
  mkdirSync(join(dir, "files", "conf"), { recursive: true });
  writeFileSync(join(dir, "files", "conf", "app.conf"), "key = value\n");
  writeFileSync(join(dir, "setup.sh"), '#!/bin/sh\necho "setup as $(id -un) in $PACKER_BUILD_NAME"\n');
}, 120_000);
afterAll(async () => {
  if (!nullSpeaksSsh) return;
  await stopAllSshd();
  rmSync(dir, { recursive: true, force: true });
});

function comm(): Record<string, string | number> {
  return {
    communicator: "ssh",
    ssh_host: sshd.host,
    ssh_port: sshd.port,
    ssh_username: sshd.user,
    ssh_private_key_file: sshd.clientKeyPath,
    ssh_host_key: sshd.hostPublicKey,
  };
}

async function build(template: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, "build", "-color=false", template], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, out: out + err };
}

function check(out: string, remote: string, name: string): void {
  expect(out).toMatch(new RegExp(`==> ${name}: Provisioning with shell script: /tmp/packer-shell\\d+\\n    ${name}: quoted: it's "here"\\n`));
  expect(out).toContain(`==> ${name}: Provisioning with shell script: setup.sh\n    ${name}: setup as ${sshd.user} in ${name.split(".").at(-1)}\n`);
  expect(out).toContain(`==> ${name}: Uploading files/ => ${remote}\n`);
  expect(out).toContain(`==> ${name}: Downloading ${remote}/conf/app.conf => back.conf\n`);
  expect(out).toContain(`==> ${name}: Breakpoint provisioner disabled; continuing...\n`);
  expect(readFileSync(join(remote, "conf", "app.conf"), "utf8")).toBe("key = value\n");
  expect(readFileSync(join(dir, "back.conf"), "utf8")).toBe("key = value\n");
}

describe.skipIf(!nullSpeaksSsh)("provisioners through imgb build (null builder over SSH)", () => {
  test("legacy JSON", async () => {
    const remote = join(sshd.remoteDir, "json");
    mkdirSync(remote);
    // The test user, not root, writes there over SSH.
    chownSync(remote, statSync(sshd.remoteDir).uid, statSync(sshd.remoteDir).gid);
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "null", name: "vm", ...comm() }],
        provisioners: [
          {
            type: "shell",
            inline: ['echo "quoted: $Q"'],
            environment_vars: [`Q=it's "here"`],
            execute_command: "chmod +x {{ .Path }}; env {{ .Vars }} {{ .Path }}",
            remote_folder: remote,
          },
          { type: "shell", script: "setup.sh", remote_folder: remote },
          { type: "file", source: "files/", destination: remote },
          { type: "file", direction: "download", source: `${remote}/conf/app.conf`, destination: "back.conf" },
          { type: "breakpoint", disable: true },
        ],
      }),
    );
    const { code, out } = await build("t.json");
    expect(out).toContain("Build 'vm' finished");
    expect(code).toBe(0);
    check(out, remote, "vm");
    expect(existsSync(join(remote, "script"))).toBe(false);
  }, 60_000);

  test("HCL2", async () => {
    const remote = join(sshd.remoteDir, "hcl");
    mkdirSync(remote);
    // The test user, not root, writes there over SSH.
    chownSync(remote, statSync(sshd.remoteDir).uid, statSync(sshd.remoteDir).gid);
    rmSync(join(dir, "back.conf"), { force: true });
    const c = comm();
    writeFileSync(
      join(dir, "t.pkr.hcl"),
      `source "null" "vm" {
  communicator         = "ssh"
  ssh_host             = "${c.ssh_host}"
  ssh_port             = ${c.ssh_port}
  ssh_username         = "${c.ssh_username}"
  ssh_private_key_file = "${c.ssh_private_key_file}"
  ssh_host_key         = "${c.ssh_host_key}"
}

build {
  sources = ["source.null.vm"]
  provisioner "shell" {
    inline           = ["echo \\"quoted: $Q\\""]
    environment_vars = ["Q=it's \\"here\\""]
    execute_command  = "chmod +x {{ .Path }}; env {{ .Vars }} {{ .Path }}"
    remote_folder    = "${remote}"
  }
  provisioner "shell" {
    script        = "setup.sh"
    remote_folder = "${remote}"
  }
  provisioner "file" {
    source      = "files/"
    destination = "${remote}"
  }
  provisioner "file" {
    direction   = "download"
    source      = "${remote}/conf/app.conf"
    destination = "back.conf"
  }
  provisioner "breakpoint" {
    disable = true
  }
}
`,
    );
    const { code, out } = await build("t.pkr.hcl");
    expect(out).toContain("Build 'null.vm' finished");
    expect(code).toBe(0);
    check(out, remote, "null.vm");
  }, 60_000);
});
