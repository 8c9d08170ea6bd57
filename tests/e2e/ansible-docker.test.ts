// examples/ansible-docker through the compiled binary: the docker builder on podman with no SSH in
// the container, provisioned by Debian's ansible-core through the communicator adapter; the play
// installs a file, sets a fact and uses become. The committed image is read back with podman.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runImgb } from "../support/binary.ts";
import { podmanAnsibleImage } from "../support/images.ts";

const EXAMPLE = resolve(import.meta.dir, "../../examples/ansible-docker");
const RESULT = "localhost/imgb-examples/ansible-app:latest";
// As the docker builder starts its containers: podman's default rlimits do not start on every host.
const ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000"];
let dir: string;
let image: string;

function podman(args: string[]): { code: number; out: string } {
  const p = Bun.spawnSync(["podman", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

beforeAll(async () => {
  image = await podmanAnsibleImage();
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-ansible-docker-"));
}, 300_000);
afterAll(() => {
  podman(["rmi", "-f", RESULT]);
  rmSync(dir, { recursive: true, force: true });
});

describe("examples/ansible-docker", () => {
  test("ansible provisions a podman container without SSH; the image holds what the play made", async () => {
    const r = await runImgb(["build", "-color=false", "-var", `image=${image}`, "-var", "greeting=hi there", EXAMPLE], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Using the communicator adapter on 127.0.0.1:");
    expect(r.stdout).toMatch(/PLAY RECAP[\s\S]*default\s+: ok=3\s+changed=2/);
    expect(podman(["run", "--rm", ...ULIMITS, RESULT]).out).toBe("greeting = hi there\n");
    expect(podman(["run", "--rm", ...ULIMITS, RESULT, "/etc/app.release"]).out).toBe("docker.app-42 built-as-root\n");
    // The build container is gone (other containers on the machine are not this build's business).
    expect(podman(["ps", "-aq", "--filter", `ancestor=${image}`]).out.trim()).toBe("");
  }, 240_000);
});
