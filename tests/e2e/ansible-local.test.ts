// The ansible-local provisioner through the compiled binary: a podman container with ansible-core
// (the cached test image) gets the playbook, a role, group_vars and a generated inventory with
// groups in a staging folder and runs ansible-playbook -c local there; a shell provisioner prints
// what the play wrote. A missing ansible-playbook on the machine says so.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { podmanAnsibleImage, podmanBaseImage } from "../support/images.ts";

let dir: string;
beforeAll(async () => {
  await podmanAnsibleImage();
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-ansible-local-"));
  mkdirSync(join(dir, "roles", "motd", "tasks"), { recursive: true });
  writeFileSync(join(dir, "roles", "motd", "tasks", "main.yml"), `- name: write the motd\n  ansible.builtin.copy:\n    dest: /etc/motd\n    content: "{{ motd_text }} ({{ group_names | join(',') }}, {{ packer_builder_type }})\\n"\n`);
  mkdirSync(join(dir, "group_vars"));
  writeFileSync(join(dir, "group_vars", "web.yml"), "motd_text: served by the web group\n");
  writeFileSync(join(dir, "site.yml"), "- hosts: web\n  roles:\n    - motd\n");
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function template(name: string, image: string, provisioner: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      builders: [{ type: "docker", image, pull: false, discard: true }],
      provisioners: [{ type: "ansible-local", ...provisioner }, { type: "shell", inline: ["echo motd: $(cat /etc/motd)", "ls /tmp/packer-provisioner-ansible-local | wc -l"] }],
    }),
  );
  return path;
}

describe("ansible-local provisioner", () => {
  test("runs the uploaded playbook with its role and group_vars on the machine", async () => {
    const t = template("site", await podmanAnsibleImage(), {
      playbook_file: "site.yml",
      role_paths: ["roles/motd"],
      group_vars: "group_vars",
      inventory_groups: ["web", "all_hosts"],
      clean_staging_directory: true,
    });
    const r = await runImgb(["build", "-color=false", t], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Uploading role directories...");
    expect(r.stdout).toMatch(/Executing Ansible: cd \/tmp\/packer-provisioner-ansible-local\/\w+ && ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook /);
    expect(r.stdout).toContain("motd: served by the web group (all_hosts,web, docker)");
    // clean_staging_directory removed the staging folder.
    expect(r.stdout).toMatch(/docker: 0\n/);
  }, 180_000);

  test("a machine without ansible-playbook: the error says it could not be found", async () => {
    const t = template("none", await podmanBaseImage(), { playbook_file: "site.yml" });
    const r = await runImgb(["build", "-color=false", t], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("could not be found. Verify that it is available on the\nPATH after connecting to the machine.");
  }, 120_000);
});
