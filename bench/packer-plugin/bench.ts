// The Packer plugin bridge against packer 1.6.6 itself. Run (root, needs `npm run build` and
// `apt-get install packer`): node_modules/.bin/bun bench/packer-plugin/bench.ts [runs]
//  1. `validate` of a template with 3 amazon-ebs sources: imgb through the bridge vs `packer validate`,
//     both using the same legacy plugin (a packer-builder-amazon-ebs wrapper around packer 1.6.6's
//     builder, in PACKER_PLUGIN_PATH), which logs every start so the plugin processes are counted;
//     /proc is sampled every 5 ms for how many run at once.
//  2. Per-call cost of a communicator Start (`true` over SSH to a throwaway sshd): through the
//     bridge (imgb -> plugin RPC -> the plugin's SSH session) vs imgb's native SSH communicator.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSshd } from "../../tests/support/sshd.ts";
import { PluginBuilder } from "../../core/packer-plugin/builder.ts";
import { connectSsh, parseSshConfig } from "../../core/communicator/ssh/index.ts";
import type { Communicator } from "../../core/communicator/types.ts";
import type { Ui } from "../../core/ui/types.ts";
import { consoleUi } from "../../core/registry/console-ui.ts";

const runs = Number(process.argv[2] ?? 10);
const root = resolve(import.meta.dir, "../..");
const imgb = join(root, "dist/imgb");
const work = mkdtempSync(join(tmpdir(), "imgb-bench-bridge-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = join(work, "starts.log");
const plugins = join(work, "plugins");
Bun.spawnSync(["mkdir", "-p", plugins]);
writeFileSync(join(plugins, "packer-builder-amazon-ebs"), `#!/bin/sh\necho start >> ${log}\nexec packer plugin packer-builder-amazon-ebs\n`);
chmodSync(join(plugins, "packer-builder-amazon-ebs"), 0o755);
const ebs = (n: number) => ({ type: "amazon-ebs", name: `ebs-${n}`, ami_name: `img-${n}-{{timestamp}}`, instance_type: "m1.small", region: "us-east-1", ssh_username: "ubuntu", source_ami: "ami-0568456c" });
writeFileSync(join(work, "t.json"), JSON.stringify({ builders: [ebs(1), ebs(2), ebs(3)] }));
const env = { ...process.env, PACKER_PLUGIN_PATH: plugins, CHECKPOINT_DISABLE: "1" };

const parentOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
};

/** Processes below `root` now running `packer plugin packer-builder-amazon-ebs` (others' tests may run packer too). */
function pluginsRunning(root: number): number {
  let n = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8") !== "packer\0plugin\0packer-builder-amazon-ebs\0") continue;
      for (let p = parentOf(Number(pid)); p > 1; p = parentOf(p)) if (p === root) n++;
    } catch {
      // gone
    }
  }
  return n;
}

async function timeOnce(argv: string[]): Promise<{ ms: number; starts: number; peak: number }> {
  writeFileSync(log, "");
  let peak = 0;
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { cwd: work, env, stdout: "pipe", stderr: "pipe" });
  const sampler = setInterval(() => (peak = Math.max(peak, pluginsRunning(proc.pid))), 5);
  const code = await proc.exited;
  const ms = performance.now() - t0;
  clearInterval(sampler);
  if (code !== 0) throw new Error(`${argv.join(" ")}: ${await new Response(proc.stdout).text()}${await new Response(proc.stderr).text()}`);
  const starts = readFileSync(log, "utf8").split("\n").filter(Boolean).length;
  return { ms, starts, peak };
}

const results: Record<string, Array<{ ms: number; starts: number; peak: number }>> = { imgb: [], packer: [] };
for (let i = 0; i < runs; i++) {
  results.imgb!.push(await timeOnce([imgb, "validate", "t.json"]));
  results.packer!.push(await timeOnce(["packer", "validate", "t.json"]));
}
const vi = median(results.imgb!.map((r) => r.ms));
const vp = median(results.packer!.map((r) => r.ms));
console.log(`validate, 3 amazon-ebs sources (median of ${runs}, interleaved)`);
console.log(`  imgb   ${vi.toFixed(1)} ms, plugin processes ${results.imgb![0]!.starts}, at once at most ${Math.max(...results.imgb!.map((r) => r.peak))}`);
console.log(`  packer ${vp.toFixed(1)} ms, plugin processes ${results.packer![0]!.starts}, at once at most ${Math.max(...results.packer!.map((r) => r.peak))}`);
console.log(`  ratio imgb/packer ${(vi / vp).toFixed(2)}`);

// 2. Start overhead.
// Only errors are shown: the console Ui with its stdout dropped.
const quiet: Ui = consoleUi(() => {});
const calls = Number(process.env.BENCH_CALLS ?? 200);
const sshd = await startSshd();
const signal = new AbortController().signal;
async function perCall(comm: Communicator): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const r = await comm.start({ command: "true" }, signal);
    times.push(performance.now() - t0);
    if (r.kind !== "exited" || r.exitStatus !== 0) throw new Error(`start: ${JSON.stringify(r)}`);
  }
  return times;
}
try {
  const { config } = parseSshConfig({ ssh_host: "127.0.0.1", ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.clientKeyPath, ssh_host_key: sshd.hostPublicKey });
  const native = await connectSsh(config!, quiet, signal);
  const nativeTimes = await perCall(native);
  await native.close();

  writeFileSync(join(plugins, "packer-builder-null"), "#!/bin/sh\nexec packer plugin packer-builder-null\n");
  chmodSync(join(plugins, "packer-builder-null"), 0o755);
  const plugin = await PluginBuilder.start({ argv: [join(plugins, "packer-builder-null")], path: "packer-builder-null", multiComponent: false, encoding: "gob" });
  let bridgedTimes: number[] = [];
  try {
    const prep = await plugin.prepare([
      { communicator: "ssh", ssh_host: "127.0.0.1", ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.clientKeyPath },
      { packer_build_name: "bench", packer_builder_type: "null" },
    ]);
    if (prep.errors.length) throw new Error(prep.errors.join("; "));
    await plugin.run({ ui: quiet, hook: async (_name, comm) => void (bridgedTimes = await perCall(comm)) }, signal);
  } finally {
    await plugin.kill();
  }
  const n = median(nativeTimes);
  const b = median(bridgedTimes);
  console.log(`communicator Start of \`true\` over SSH (median of ${calls} calls)`);
  console.log(`  native SSH communicator ${n.toFixed(2)} ms`);
  console.log(`  bridged (packer 1.6.6 null builder's SSH communicator over the plugin protocol) ${b.toFixed(2)} ms`);
  console.log(`  overhead per call ${(b - n).toFixed(2)} ms, ratio ${(b / n).toFixed(2)}`);
} finally {
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
}
