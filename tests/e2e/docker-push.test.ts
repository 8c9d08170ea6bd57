// The docker-push post-processor through the compiled binary: an image the docker builder committed
// on podman and docker-tag named is pushed to Debian's docker-registry on loopback, with and without
// htpasswd auth, then removed locally, pulled back and run. A refused login names the registry and
// podman's reason; the password never shows in the output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { podmanBaseImage } from "../support/images.ts";
import { startOciRegistry } from "../support/oci-registry.ts";

const ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000"];
const AUTH = { username: "imgb", password: "s3cret-push-pass" };
let dir: string;
let image: string;
let open: Awaited<ReturnType<typeof startOciRegistry>>;
let locked: Awaited<ReturnType<typeof startOciRegistry>>;
const made: string[] = [];

function podman(args: string[]): { code: number; out: string } {
  const p = Bun.spawnSync(["podman", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-push-"));
  image = await podmanBaseImage();
  [open, locked] = await Promise.all([startOciRegistry(), startOciRegistry({ auth: AUTH })]);
}, 120_000);
afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
  for (const ref of made) podman(["rmi", "-f", ref]);
  rmSync(dir, { recursive: true, force: true });
});

function template(name: string, repository: string, push: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      builders: [{ type: "docker", image, pull: false, commit: true }],
      provisioners: [{ type: "shell", inline: [`echo pushed-by-${name} > /etc/pushed`] }],
      "post-processors": [[{ type: "docker-tag", repository, tags: ["v1", "latest"] }, { type: "docker-push", ...push }]],
    }),
  );
  made.push(`${repository}:v1`, `${repository}:latest`);
  return path;
}

/** Removes the local names, pulls `ref` back from the registry and runs it. */
function pullAndRead(ref: string, creds?: string): string {
  podman(["rmi", "-f", ref]);
  const pull = podman(["pull", "-q", "--tls-verify=false", ...(creds ? ["--creds", creds] : []), ref]);
  expect(pull.code, pull.out).toBe(0);
  return podman(["run", "--rm", ...ULIMITS, "--entrypoint", "cat", ref, "/etc/pushed"]).out;
}

describe("docker-push", () => {
  test("pushes every tag to a registry without auth; the image pulls back", async () => {
    const repo = `${open.host}/imgb/open`;
    const r = await runImgb(["build", "-color=false", template("open", repo, {})], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Pushing: ${repo}:v1`);
    expect(r.stdout).toContain(`Pushing: ${repo}:latest`);
    const tags = await (await fetch(`${open.url}/v2/imgb/open/tags/list`)).json();
    expect((tags as { tags: string[] }).tags.sort()).toEqual(["latest", "v1"]);
    expect(pullAndRead(`${repo}:v1`)).toBe("pushed-by-open\n");
  }, 120_000);

  test("logs in with htpasswd credentials (password kept out of the output) and pushes", async () => {
    const repo = `${locked.host}/imgb/locked`;
    const t = template("locked", repo, { login: true, login_server: locked.host, login_username: AUTH.username, login_password: AUTH.password });
    const r = await runImgb(["build", "-color=false", t], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(AUTH.password);
    expect(pullAndRead(`${repo}:latest`, `${AUTH.username}:${AUTH.password}`)).toBe("pushed-by-locked\n");
  }, 120_000);

  test("a refused login names the registry and the reason; no login at all is refused at push", async () => {
    const repo = `${locked.host}/imgb/refused`;
    const bad = template("refused", repo, { login: true, login_server: locked.host, login_username: AUTH.username, login_password: "wrong-password" });
    const r = await runImgb(["build", "-color=false", bad], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`login to registry ${locked.host} as imgb failed:`);
    expect(r.stdout).toMatch(/unauthorized|invalid username\/password/i);
    expect(r.stdout).not.toContain("wrong-password");

    const none = template("anonymous", `${locked.host}/imgb/anonymous`, {});
    const r2 = await runImgb(["build", "-color=false", none], { cwd: dir, timeoutMs: 120_000 });
    expect(r2.exitCode).toBe(1);
    expect(r2.stdout).toContain(`pushing ${locked.host}/imgb/anonymous:v1 to registry ${locked.host} failed:`);
    expect(r2.stdout).toMatch(/authentication required|unauthorized/i);
  }, 180_000);
});
