// 256 MiB upload over loopback: the SSH communicator (sftp and scp methods) against OpenSSH's
// `scp` of the same file to the same throwaway sshd, timed by hyperfine. Goal: communicator
// (sftp, the default) <= 1.3x scp. Run: node_modules/.bin/bun bench/ssh/bench.ts [runs]
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSshd } from "../../tests/support/sshd.ts";

const runs = Number(process.argv[2] ?? 5);
const SIZE_MIB = Number(process.env.BENCH_MIB ?? 256);
const root = resolve(import.meta.dir, "../..");
const bun = join(root, "node_modules/.bin/bun");
const work = mkdtempSync(join(tmpdir(), "imgb-bench-ssh-"));
const src = join(work, "payload.bin");
const sshd = await startSshd();
try {
  const fh = await open(src, "w");
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < SIZE_MIB; i++) {
    block.writeUInt32BE(i, 0);
    await fh.write(block);
  }
  await fh.close();

  const env = {
    ...process.env,
    BENCH_PORT: String(sshd.port),
    BENCH_USER: sshd.user,
    BENCH_KEY: sshd.clientKeyPath,
    BENCH_HOST_KEY: sshd.hostPublicKey,
    BENCH_SRC: src,
  };
  const dest = (name: string): string => `${sshd.remoteDir}/${name}`;
  const scp = [
    "scp -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
    `-i ${sshd.clientKeyPath} -P ${sshd.port} ${src} ${sshd.user}@127.0.0.1:${dest("by-scp")}`,
  ].join(" ");
  const ours = (method: string): string =>
    `BENCH_METHOD=${method} BENCH_DEST=${dest(`imgb-${method}`)} ${bun} ${join(root, "bench/ssh/upload-once.ts")}`;
  const json = join(work, "hyperfine.json");
  const r = spawnSync(
    "hyperfine",
    [
      ...["--warmup", "1", "--runs", String(runs), "--export-json", json],
      ...["-n", "openssh scp", scp],
      // OpenSSH 9 scp speaks SFTP; -O is the legacy scp protocol that imgb's "scp" method speaks.
      ...["-n", "openssh scp -O", scp.replace("scp -q", "scp -O -q").replace("by-scp", "by-scp-O")],
      ...["-n", "imgb sftp", ours("sftp")],
      ...["-n", "imgb scp", ours("scp")],
    ],
    { env, stdio: "inherit" },
  );
  if (r.status !== 0) throw new Error(`hyperfine failed (${r.status})`);
  const results = (JSON.parse(readFileSync(json, "utf8")) as { results: Array<{ command: string; median: number; mean: number; stddev: number }> }).results;
  const base = results.find((x) => x.command === "openssh scp")!.median;
  console.log(`\n${SIZE_MIB} MiB upload over loopback, median of ${runs} runs (connect included):`);
  for (const x of results) {
    console.log(
      `  ${x.command.padEnd(15)} ${x.median.toFixed(3)} s  ${(SIZE_MIB / x.median).toFixed(0).padStart(4)} MiB/s  ${(x.median / base).toFixed(2)}x scp`,
    );
  }
  // Same bytes arrived.
  const sums = spawnSync("sh", ["-c", `sha256sum ${src} ${dest("by-scp")} ${dest("by-scp-O")} ${dest("imgb-sftp")} ${dest("imgb-scp")} | cut -d' ' -f1 | sort -u | wc -l`], {
    encoding: "utf8",
  });
  console.log(`  integrity: ${sums.stdout.trim() === "1" ? "all copies match" : "MISMATCH"}`);
} finally {
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
}
