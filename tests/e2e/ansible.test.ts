// The ansible provisioner through the compiled binary, with Debian's ansible-core, against a real
// sshd (null builder): through the communicator adapter and straight over SSH (use_proxy = false),
// as a non-root user whose `become` tasks escalate with sudo (the harness grants the rule while the
// server runs); the galaxy step with a local requirements file; a failing task, a missing
// ansible-playbook, and Ctrl-C in the middle of a play.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary, runImgb } from "../support/binary.ts";
import { nullSshBuilder, startSshd, type Sshd } from "../support/sshd.ts";

let sshd: Sshd;
let dir: string;
beforeAll(async () => {
  sshd = await startSshd({ sudo: true });
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-ansible-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
  // The sudoers rule went with the server.
  if (sshd) expect(existsSync(`/etc/sudoers.d/imgb-test-${sshd.port}`)).toBe(false);
});

const builder = () => nullSshBuilder(sshd);

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: install a file
      ansible.builtin.copy:
        content: "installed by ansible\\n"
        dest: "{{ target_dir }}/installed.txt"
        mode: "0640"
    - name: set a fact
      ansible.builtin.set_fact:
        answer: "fact-{{ 6 * 7 }}-{{ packer_builder_type }}"
    - name: write the fact and the remote user
      ansible.builtin.shell: "echo {{ answer }} $(id -un) > {{ target_dir }}/fact.txt"
    - name: escalate to write where only root may
      become: true
      ansible.builtin.shell: "id -un > {{ target_dir }}/root-only/by-root.txt"
`;

/** A folder on the machine for the play, with root-only/ closed to the test user (only `become` writes there). */
function targetDir(name: string): string {
  const target = join(sshd.remoteDir, name);
  Bun.spawnSync(["install", "-d", "-o", sshd.user, target]);
  Bun.spawnSync(["install", "-d", "-o", "root", "-m", "0700", join(target, "root-only")]);
  return target;
}

/** The become task's file: written by root, as root. */
function expectWrittenByRoot(target: string): void {
  const file = join(target, "root-only", "by-root.txt");
  expect(readFileSync(file, "utf8")).toBe("root\n");
  expect(statSync(file).uid).toBe(0);
}

/**
 * What ansible-galaxy installs offline: a role packed as a tarball and a collection (a filter plugin)
 * as a folder, named by a local requirements file with both sections.
 */
function galaxySources(): string {
  const src = join(dir, "galaxy-src");
  mkdirSync(join(src, "motd", "tasks"), { recursive: true });
  mkdirSync(join(src, "motd", "meta"));
  writeFileSync(join(src, "motd", "tasks", "main.yml"), `- name: the galaxy role's task\n  ansible.builtin.copy:\n    content: "{{ 'from the role' | acme.tools.shout }}\\n"\n    dest: "{{ target_dir }}/role.txt"\n`);
  writeFileSync(join(src, "motd", "meta", "main.yml"), "galaxy_info:\n  author: acme\n  license: MIT\ndependencies: []\n");
  Bun.spawnSync(["tar", "-czf", join(src, "motd.tar.gz"), "-C", src, "motd"]);
  mkdirSync(join(src, "tools", "plugins", "filter"), { recursive: true });
  writeFileSync(join(src, "tools", "galaxy.yml"), "namespace: acme\nname: tools\nversion: 1.0.0\nreadme: README.md\nauthors: [acme]\n");
  writeFileSync(join(src, "tools", "README.md"), "acme.tools\n");
  writeFileSync(join(src, "tools", "plugins", "filter", "shout.py"), "class FilterModule:\n    def filters(self):\n        return {'shout': lambda s: s.upper() + '!'}\n");
  const requirements = join(dir, "requirements.yml");
  writeFileSync(requirements, `roles:\n  - src: file://${src}/motd.tar.gz\n    name: acme.motd\ncollections:\n  - name: ${src}/tools\n    type: dir\n`);
  return requirements;
}

function template(name: string, provisioner: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ builders: [builder()], provisioners: [{ type: "ansible", ...provisioner }] }));
  return path;
}

/** Pids of ansible-playbook processes whose command line names `marker`. */
function ansibleLeft(marker: string): string {
  return Bun.spawnSync(["pgrep", "-af", marker]).stdout.toString().trim();
}

describe("ansible provisioner", () => {
  test("through the adapter: galaxy installs a role and a collection, the play installs a file, sets a fact and escalates", async () => {
    writeFileSync(join(dir, "play.yml"), PLAYBOOK);
    // The same play, then the role ansible-galaxy installed (which uses the collection's filter).
    writeFileSync(join(dir, "site.yml"), "- import_playbook: play.yml\n- hosts: all\n  gather_facts: false\n  roles:\n    - acme.motd\n");
    const roles = join(dir, "galaxy", "roles");
    const collections = join(dir, "galaxy", "collections");
    const target = targetDir("proxy");
    const t = template("proxy", {
      playbook_file: "site.yml",
      extra_arguments: ["-e", `target_dir=${target}`],
      groups: ["web"],
      galaxy_file: galaxySources(),
      roles_path: roles,
      collections_path: collections,
      // As with Packer, roles_path and collections_path are where galaxy installs; the play finds them through ansible's own settings.
      ansible_env_vars: [`ANSIBLE_ROLES_PATH=${roles}`, `ANSIBLE_COLLECTIONS_PATH=${collections}`],
    });
    // Its own TMPDIR: the temp files of this build alone.
    const tmp = mkdtempSync(join(dir, "tmp-"));
    const r = await runImgb(["build", "-color=false", t], { cwd: dir, timeoutMs: 120_000, env: { TMPDIR: tmp } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Provisioning with Ansible...");
    expect(r.stdout).toContain("Using the communicator adapter on 127.0.0.1:");
    expect(r.stdout).toContain("Executing Ansible Galaxy");
    expect(r.stdout).toContain("acme.motd was installed successfully");
    expect(r.stdout).toContain("acme.tools:1.0.0 was installed successfully");
    expect(existsSync(join(roles, "acme.motd", "tasks", "main.yml"))).toBe(true);
    expect(existsSync(join(collections, "ansible_collections", "acme", "tools", "plugins", "filter", "shout.py"))).toBe(true);
    expect(r.stdout).toMatch(/PLAY RECAP[\s\S]*default\s+: ok=5\s+changed=4/);
    expect(readFileSync(join(target, "role.txt"), "utf8")).toBe("FROM THE ROLE!\n");
    expect(readFileSync(join(target, "installed.txt"), "utf8")).toBe("installed by ansible\n");
    expect(statSync(join(target, "installed.txt")).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(target, "fact.txt"), "utf8")).toBe(`fact-42-null ${sshd.user}\n`);
    expectWrittenByRoot(target);
    // The generated inventory, key and known_hosts are temp files of the call: gone.
    expect(readdirSync(tmp).filter((n) => n.startsWith("imgb-"))).toEqual([]);
  }, 120_000);

  test("use_proxy = false: ansible connects straight to the machine's SSH address", async () => {
    writeFileSync(join(dir, "play.yml"), PLAYBOOK);
    const target = targetDir("direct");
    const t = template("direct", { playbook_file: "play.yml", use_proxy: false, extra_arguments: ["-e", `target_dir=${target}`] });
    const r = await runImgb(["build", "-color=false", t], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Not using Proxy adapter for Ansible run");
    expect(r.stdout).toContain(`-e ansible_ssh_private_key_file=${sshd.clientKeyPath}`);
    expect(readFileSync(join(target, "fact.txt"), "utf8")).toBe(`fact-42-null ${sshd.user}\n`);
    expectWrittenByRoot(target);
  }, 120_000);

  test("a failing task: the error names the task, ansible's message and the exit status", async () => {
    writeFileSync(
      join(dir, "fail.yml"),
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: this one works\n      ansible.builtin.command: "true"\n    - name: this one fails\n      ansible.builtin.command: /bin/false\n`,
    );
    const t = template("fail", { playbook_file: "fail.yml" });
    const r = await runImgb(["build", "-color=false", t], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Error executing Ansible: Non-zero exit status: exit status 2");
    expect(r.stdout).toContain("failed task: TASK [this one fails] fatal: [default]: FAILED!");
    expect(r.stdout).not.toContain("    at ");
  }, 120_000);

  test("a missing ansible-playbook says how to install it", async () => {
    const t = template("missing", { playbook_file: "play.yml", command: "ansible-playbook-not-installed" });
    const r = await runImgb(["build", "-color=false", t], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("ansible-playbook-not-installed was not found: install ansible-core");
    expect(r.stdout).toContain("apt-get install ansible-core");
  });

  test("Ctrl-C during the play stops ansible, the adapter and the remote command", async () => {
    const marker = `imgb-ansible-sleep-${process.pid}`;
    writeFileSync(join(dir, "slow.yml"), `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: sleep\n      ansible.builtin.shell: "sleep 60 # ${marker}"\n`);
    const t = template("slow", { playbook_file: "slow.yml" });
    const proc = Bun.spawn([requireBinary(), "build", "-color=false", t], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    let out = "";
    const decoder = new TextDecoder();
    const reader = proc.stdout.getReader();
    const deadline = Date.now() + 60_000;
    while (!out.includes("TASK [sleep]") && Date.now() < deadline) {
      const { done, value } = await reader.read();
      if (done) break;
      out += decoder.decode(value, { stream: true });
    }
    expect(out).toContain("TASK [sleep]");
    const port = /communicator adapter on 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
    // Until the remote sleep is running.
    for (let i = 0; i < 50 && !ansibleLeft(marker).includes("sleep 60"); i++) await Bun.sleep(200);
    proc.kill("SIGINT");
    const code = await proc.exited;
    expect(code).not.toBe(0);
    await Bun.sleep(500);
    expect(ansibleLeft(marker)).toBe("");
    expect(ansibleLeft("ansible-playbook")).not.toContain(join(dir, "slow.yml"));
    const probe = Bun.spawnSync(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
    expect(probe.exitCode).not.toBe(0);
  }, 120_000);

  test("goss, powershell and windows-restart are named as not provided yet, with the reason", async () => {
    const path = join(dir, "missing-types.json");
    writeFileSync(
      path,
      JSON.stringify({ builders: [{ type: "null", communicator: "none" }], provisioners: [{ type: "goss" }, { type: "powershell" }, { type: "windows-restart" }] }),
    );
    const r = await runImgb(["validate", path], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Unknown provisioner goss: not provided yet: it runs the goss binary, which is not packaged for Debian");
    expect(r.stderr).toContain("Unknown provisioner powershell: not provided yet: it needs a Windows machine");
    expect(r.stderr).toContain("Unknown provisioner windows-restart: not provided yet");
  });
});
