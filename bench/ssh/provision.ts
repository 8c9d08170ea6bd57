// Provisioning over SSH, imgb against packer 1.6.6 on the same JSON templates and the same throwaway
// sshd: 50 inline commands in one shell provisioner, and a 256 MiB file provisioner upload against
// OpenSSH `scp` of the same file. Run as root: node_modules/.bin/bun bench/ssh/provision.ts [runs]
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSshd } from "../../tests/support/sshd.ts";

const runs = process.argv[2] ?? "5";
const root = resolve(import.meta.dir, "../..");
const imgb = join(root, "dist/imgb");
const work = mkdtempSync(join(tmpdir(), "imgb-bench-prov-"));
const sshd = await startSshd();
try {
  const payload = join(work, "payload.bin");
  writeFileSync(payload, randomBytes(256 * 1024 * 1024));
  const builder = {
    type: "null",
    communicator: "ssh",
    ssh_host: "127.0.0.1",
    ssh_port: sshd.port,
    ssh_username: sshd.user,
    ssh_private_key_file: sshd.clientKeyPath,
  };
  const inline = Array.from({ length: 50 }, (_, i) => `echo command ${i}`);
  writeFileSync(join(work, "inline50.json"), JSON.stringify({ builders: [builder], provisioners: [{ type: "shell", inline }] }));
  writeFileSync(
    join(work, "upload256.json"),
    JSON.stringify({ builders: [builder], provisioners: [{ type: "file", source: payload, destination: `${sshd.remoteDir}/up.bin` }] }),
  );
  const scp = `scp -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i ${sshd.clientKeyPath} -P ${sshd.port} ${payload} ${sshd.user}@127.0.0.1:${sshd.remoteDir}/by-scp.bin`;
  const hf = (name: string, cmds: Array<[string, string]>) => {
    const out = join(root, "bench/out", `${name}.json`);
    const r = spawnSync("hyperfine", ["--warmup", "1", "--runs", runs, "--export-json", out, ...cmds.flatMap(([n, c]) => ["-n", n, c])], {
      cwd: work,
      stdio: "inherit",
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    });
    if (r.status !== 0) throw new Error(`hyperfine ${name} failed`);
    const results = (JSON.parse(readFileSync(out, "utf8")) as { results: Array<{ command: string; median: number }> }).results;
    console.log(name, results.map((x) => `${x.command} ${x.median.toFixed(3)} s`).join(", "));
  };
  hf("ssh-inline50", [
    ["imgb", `${imgb} build -color=false inline50.json`],
    ["packer", "packer build -color=false inline50.json"],
  ]);
  hf("ssh-upload256", [
    ["imgb", `${imgb} build -color=false upload256.json`],
    ["scp", scp],
  ]);
} finally {
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
}
