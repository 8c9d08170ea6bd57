// Ctrl-C during an upload, through the compiled binary over a real sshd (sftp and scp): imgb stops,
// and neither a truncated destination nor the temporary it was writing is left on the machine.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary } from "../support/binary.ts";
import { startSshd, type Sshd } from "../support/sshd.ts";

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
          {
            type: "null",
            communicator: "ssh",
            ssh_host: "127.0.0.1",
            ssh_port: sshd.port,
            ssh_username: sshd.user,
            ssh_private_key_file: sshd.clientKeyPath,
            ssh_host_key: sshd.hostPublicKey,
            ssh_file_transfer_method: method,
          },
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
