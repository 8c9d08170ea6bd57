// `imgb build` over SSH through the compiled binary: the null builder connects to a real sshd, the
// shell and file plugins provision, large uploads report progress, a bad password is a clear error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { nullSshBuilder, startSshd, type Sshd } from "../support/sshd.ts";

let sshd: Sshd;
let dir: string;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-ssh-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const builder = () => nullSshBuilder(sshd);

describe("build over SSH", () => {
  test("shell and file provisioners run on the machine; a large upload reports progress", async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    writeFileSync(join(dir, "payload.bin"), payload);
    const remote = `${sshd.remoteDir}/payload.bin`;
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [builder()],
        provisioners: [
          { type: "shell", inline: ["echo remote user is $(id -un)", "echo built by $PACKER_BUILD_NAME"] },
          { type: "file", source: "payload.bin", destination: remote },
        ],
      }),
    );
    const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`    null: remote user is ${sshd.user}`);
    expect(r.stdout).toContain("    null: built by null");
    expect(r.stdout).toContain(`Uploading to ${remote}: done, 8.0 MiB`);
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    expect(sha(readFileSync(remote))).toBe(sha(payload));
  });

  test("a bad password names the user and the host, exit 1", async () => {
    writeFileSync(
      join(dir, "bad.json"),
      JSON.stringify({
        builders: [{ ...builder(), ssh_private_key_file: undefined, ssh_password: "wrong-password", ssh_timeout: "3s" }],
        provisioners: [{ type: "shell", inline: ["true"] }],
      }),
    );
    const r = await runImgb(["build", "-color=false", "bad.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`127.0.0.1:${sshd.port}`);
    expect(r.stdout).toContain(sshd.user);
    expect(r.stdout).toMatch(/authentication failed/i);
  });
});
