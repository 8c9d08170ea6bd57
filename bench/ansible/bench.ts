// The ansible provisioner against ansible on its own, on the same 20-task playbook:
//   ssh:    `imgb build` (null builder over SSH, ansible through imgb's communicator adapter) against
//           `ansible-playbook` straight over SSH to the same throwaway sshd, and imgb with use_proxy = false;
//   podman: `imgb build` (docker builder on podman, ansible through the adapter) against
//           `ansible-playbook -c containers.podman.podman` on a container started by hand (the
//           connection plugin ships in Debian's `ansible` package, not in ansible-core).
// Run as root: node_modules/.bin/bun bench/ansible/bench.ts [runs]   (needs hyperfine, ansible-core;
// the podman part needs `apt-get install ansible` and the cached test image).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSshd } from "../../tests/support/sshd.ts";
import { podmanAnsibleImage } from "../../tests/support/images.ts";

const runs = process.argv[2] ?? "5";
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

const hf = (name: string, cmds: Array<[string, string]>, env: Record<string, string> = {}) => {
  const out = join(root, "bench/out", `${name}.json`);
  const r = spawnSync("hyperfine", ["--warmup", "1", "--runs", runs, "--export-json", out, ...cmds.flatMap(([n, c]) => ["-n", n, c])], {
    cwd: work,
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`hyperfine ${name} failed`);
  const results = (JSON.parse(readFileSync(out, "utf8")) as { results: Array<{ command: string; median: number }> }).results;
  const peer = results[1]!.median;
  console.log(name, results.map((x) => `${x.command} ${x.median.toFixed(3)} s (${(x.median / peer).toFixed(2)}x)`).join(", "));
};

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
  hf(
    "ansible-ssh",
    [
      ["imgb (adapter)", `${imgb} build -color=false adapter.json`],
      ["ansible-playbook over ssh", "ansible-playbook -i inventory play.yml"],
      ["imgb (use_proxy = false)", `${imgb} build -color=false direct.json`],
    ],
    { ANSIBLE_HOST_KEY_CHECKING: "False", ANSIBLE_SCP_IF_SSH: "True" },
  );
} finally {
  await sshd.stop();
}

const podmanPlugin = spawnSync("ansible-doc", ["-t", "connection", "containers.podman.podman"], { stdio: "ignore" }).status === 0;
if (!podmanPlugin) {
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
  hf("ansible-podman", [
    ["imgb docker builder (adapter)", `${imgb} build -color=false docker.json`],
    ["ansible-playbook -c containers.podman.podman", "bash peer.sh"],
  ]);
}
if (existsSync(work)) rmSync(work, { recursive: true, force: true });
