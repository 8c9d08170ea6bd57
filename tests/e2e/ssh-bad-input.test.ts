// Through the compiled binary over a real sshd: Ctrl-C during an upload (sftp and scp) leaves neither
// a truncated destination nor the temporary it was writing; a sensitive environment variable of the
// shell provisioner never appears in the machine's process table and its 0600 file is removed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary } from "../support/binary.ts";
import { nullSshBuilder, nullSshSource, startSshd, type Sshd } from "../support/sshd.ts";

let sshd: Sshd;
let dir: string;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-upload-int-"));
  // Sparse: costs no disk here, and is still 4 GiB to send.
  writeFileSync(join(dir, "big.bin"), "");
  truncateSync(join(dir, "big.bin"), 4 * 2 ** 30);
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const method of ["sftp", "scp"] as const) {
  test(`Ctrl-C during an ${method} upload leaves nothing at the destination`, async () => {
    const remoteDir = join(sshd.remoteDir, `int-${method}`);
    const template = join(dir, `${method}.json`);
    writeFileSync(
      template,
      JSON.stringify({
        builders: [
          { ...nullSshBuilder(sshd), ssh_file_transfer_method: method },
        ],
        provisioners: [
          { type: "shell", inline: [`mkdir -p ${remoteDir}`] },
          { type: "file", source: "big.bin", destination: `${remoteDir}/big.bin` },
        ],
      }),
    );
    const proc = Bun.spawn([requireBinary(), "build", "-color=false", template], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reader = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) out += decoder.decode(chunk);
    })();
    const deadline = Date.now() + 20_000;
    while (!out.includes("Uploading") && Date.now() < deadline) await Bun.sleep(50);
    expect(out).toContain("Uploading");
    // Let some of the file arrive, so there is a partial file to leave behind.
    await Bun.sleep(400);
    proc.kill("SIGINT");
    const code = await proc.exited;
    await reader;
    expect(code, out).not.toBe(0);
    expect(readdirSync(remoteDir)).toEqual([]);
  }, 40_000);
}

test("a sensitive environment_vars value goes through a removed 0600 file on the machine", async () => {
  const remoteDir = join(sshd.remoteDir, "envfile");
  const template = join(dir, "env.pkr.hcl");
  writeFileSync(
    template,
    `variable "secret" {
  type      = string
  default   = "Zq7RemoteSecret"
  sensitive = true
}
${nullSshSource(sshd, "ssh")}build {
  sources = ["source.null.ssh"]
  provisioner "shell" {
    inline = ["mkdir -p ${remoteDir}"]
  }
  provisioner "shell" {
    remote_folder    = "${remoteDir}"
    environment_vars = ["TOKEN=\${var.secret}"]
    inline = [
      "echo in-process-table=$(ps -eo args | grep -c Zq7RemoteSecre[t])",
      "echo env-file=$(ls -l ${remoteDir}/varfile_* | cut -c1-10)",
      "test \\"$TOKEN\\" = Zq7RemoteSecret && echo token-ok",
    ]
  }
}
`,
  );
  const proc = Bun.spawn([requireBinary(), "build", "-color=false", template], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(await proc.exited, out + err).toBe(0);
  expect(out).toContain("in-process-table=0");
  expect(out).toContain("env-file=-rw-------");
  expect(out).toContain("token-ok");
  expect(out).not.toContain("Zq7RemoteSecret");
  expect(readdirSync(remoteDir).filter((n) => n.startsWith("varfile_"))).toEqual([]);
}, 40_000);
