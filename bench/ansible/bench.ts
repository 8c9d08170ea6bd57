// The ansible provisioner against ansible on its own, on the same 20-task playbook:
//   ssh:    `imgb build` (null builder over SSH, ansible through imgb's communicator adapter) against
//           `ansible-playbook` straight over SSH to the same throwaway sshd, and imgb with use_proxy = false;
//   podman: `imgb build` (docker builder on podman, ansible through the adapter) against
//           `ansible-playbook -c containers.podman.podman` on a container started by hand (the
//           connection plugin ships in Debian's `ansible` package, not in ansible-core).
// The commands are interleaved round by round (A B C, B C A, C A B, ...) rather than run as hyperfine
// runs them (all of A, then all of B): on a shared machine the load moves over minutes, and
// back-to-back blocks turned that drift into ratios. Each run gets its own ssh ControlPath folder,
// so no run reuses another's master connection. Reported: the median wall time and the median CPU
// time (user + system of the command and the processes it waited for) of each command.
// Run as root: node_modules/.bin/bun bench/ansible/bench.ts [rounds]   (needs ansible-core; the podman
// part needs `apt-get install ansible` and the cached test image).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSshd } from "../../tests/support/sshd.ts";
import { podmanAnsibleImage } from "../../tests/support/images.ts";

const rounds = Number(process.argv[2] ?? "5");
const root = resolve(import.meta.dir, "../..");
const imgb = join(root, "dist/imgb");
const work = mkdtempSync(join(tmpdir(), "imgb-bench-ansible-"));

/** 20 tasks: commands, files, copies, facts, templates-by-content: what a small role does. */
function playbook(target: string): string {
  const tasks: string[] = [];
  for (let i = 0; i < 5; i++) {
    tasks.push(`    - name: command ${i}\n      ansible.builtin.command: "echo task {{ ${i} * 2 }}"\n      changed_when: false`);
    tasks.push(`    - name: folder ${i}\n      ansible.builtin.file:\n        path: "${target}/dir${i}"\n        state: directory\n        mode: "0755"`);
    tasks.push(`    - name: copy ${i}\n      ansible.builtin.copy:\n        dest: "${target}/dir${i}/file.txt"\n        content: "content {{ ${i} }} of {{ inventory_hostname }}\\n"\n        mode: "0644"`);
    tasks.push(`    - name: fact ${i}\n      ansible.builtin.set_fact:\n        fact${i}: "{{ ${i} + 1 }}"`);
  }
  return `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.join("\n")}\n`;
}

interface Sample {
  wall: number;
  cpu: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs each command `rounds` times, rotating the order every round; the first command is the peer. */
function interleaved(name: string, cmds: Array<[string, string[]]>, env: Record<string, string> = {}): void {
  const samples = new Map<string, Sample[]>(cmds.map(([n]) => [n, []]));
  const loads: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cmds.length; k++) {
      const [label, argv] = cmds[(r + k) % cmds.length]!;
      let p: ReturnType<typeof Bun.spawnSync>;
      let wall: number;
      // On a shared machine a run may be interrupted from outside (a signal meant for another imgb): run it again.
      for (let attempt = 0; ; attempt++) {
        const cp = mkdtempSync(join(work, "cp-"));
        const t = performance.now();
        p = Bun.spawnSync(argv, { cwd: work, env: { ...process.env, ...env, ANSIBLE_SSH_CONTROL_PATH_DIR: cp }, stdout: "pipe", stderr: "pipe" });
        wall = (performance.now() - t) / 1000;
        if (attempt < 2 && p.exitCode !== 0 && String(p.stdout ?? "").includes("after receiving interrupt")) continue;
        break;
      }
      if (p.exitCode !== 0) throw new Error(`${label} failed (${p.exitCode}):\n${String(p.stdout ?? "").slice(-2000)}${String(p.stderr ?? "").slice(-2000)}`);
      const cpu = p.resourceUsage ? (Number(p.resourceUsage.cpuTime.user) + Number(p.resourceUsage.cpuTime.system)) / 1e6 : NaN;
      samples.get(label)!.push({ wall, cpu });
      loads.push(loadavg()[0]!);
    }
  }
  const peer = samples.get(cmds[0]![0])!;
  const pw = median(peer.map((s) => s.wall));
  const pc = median(peer.map((s) => s.cpu));
  console.log(`${name}: ${rounds} rounds, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`);
  for (const [label] of cmds) {
    const s = samples.get(label)!;
    const w = median(s.map((x) => x.wall));
    const c = median(s.map((x) => x.cpu));
    console.log(`  ${label}: wall ${w.toFixed(2)} s (${(w / pw).toFixed(2)}x), cpu ${c.toFixed(2)} s (${(c / pc).toFixed(2)}x); walls ${s.map((x) => x.wall.toFixed(1)).join(" ")}`);
  }
}

const only = process.env.BENCH_ONLY ?? "ssh,podman";
if (only.includes("ssh")) {
  const sshd = await startSshd();
  try {
    const target = join(sshd.remoteDir, "bench");
    spawnSync("install", ["-d", "-o", sshd.user, target]);
    writeFileSync(join(work, "play.yml"), playbook(target));
    const builder = { type: "null", communicator: "ssh", ssh_host: "127.0.0.1", ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.clientKeyPath };
    writeFileSync(join(work, "adapter.json"), JSON.stringify({ builders: [builder], provisioners: [{ type: "ansible", playbook_file: "play.yml" }] }));
    writeFileSync(join(work, "direct.json"), JSON.stringify({ builders: [builder], provisioners: [{ type: "ansible", playbook_file: "play.yml", use_proxy: false }] }));
    writeFileSync(
      join(work, "inventory"),
      `default ansible_host=127.0.0.1 ansible_port=${sshd.port} ansible_user=${sshd.user} ansible_ssh_private_key_file=${sshd.clientKeyPath}\n`,
    );
    interleaved(
      "ansible-ssh",
      [
        ["ansible-playbook over ssh", ["ansible-playbook", "-i", "inventory", "play.yml"]],
        ["imgb (adapter)", [imgb, "build", "-color=false", "adapter.json"]],
        ["imgb (use_proxy = false)", [imgb, "build", "-color=false", "direct.json"]],
      ],
      { ANSIBLE_HOST_KEY_CHECKING: "False", ANSIBLE_SCP_IF_SSH: "True" },
    );
  } finally {
    await sshd.stop();
  }
}

const podmanPlugin = spawnSync("ansible-doc", ["-t", "connection", "containers.podman.podman"], { stdio: "ignore" }).status === 0;
if (!only.includes("podman")) {
  // skipped on request
} else if (!podmanPlugin) {
  console.log("podman: containers.podman.podman is not installed (apt-get install ansible): skipped");
} else {
  const image = await podmanAnsibleImage();
  writeFileSync(join(work, "play-c.yml"), playbook("/srv/bench"));
  writeFileSync(
    join(work, "docker.json"),
    JSON.stringify({ builders: [{ type: "docker", image, pull: false, discard: true }], provisioners: [{ type: "ansible", playbook_file: "play-c.yml" }] }),
  );
  // The peer pays for a container start and removal too, as the docker builder does.
  const name = `imgb-bench-ansible-${process.pid}`;
  writeFileSync(
    join(work, "peer.sh"),
    [
      "set -e",
      `podman run -d --name ${name} --ulimit nofile=20000:20000 --ulimit nproc=20000:20000 --entrypoint /bin/sh ${image} -c 'sleep infinity' >/dev/null`,
      `trap 'podman rm -f -t 0 ${name} >/dev/null' EXIT`,
      `ansible-playbook -c containers.podman.podman -i '${name},' play-c.yml`,
    ].join("\n"),
  );
  interleaved("ansible-podman", [
    ["ansible-playbook -c containers.podman.podman", ["bash", "peer.sh"]],
    ["imgb docker builder (adapter)", [imgb, "build", "-color=false", "docker.json"]],
  ]);
}
rmSync(work, { recursive: true, force: true });
