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

/** One docker build whose image four post-processor chains name and push (each chain: docker-tag, docker-push). */
function template(chains: Array<{ repository: string; push: Record<string, unknown> }>): string {
  const path = join(dir, "push.json");
  writeFileSync(
    path,
    JSON.stringify({
      builders: [{ type: "docker", image, pull: false, commit: true }],
      provisioners: [{ type: "shell", inline: ["echo pushed-by-imgb > /etc/pushed"] }],
      "post-processors": chains.map((c) => [{ type: "docker-tag", repository: c.repository, tags: ["v1", "latest"] }, { type: "docker-push", ...c.push }]),
    }),
  );
  for (const c of chains) made.push(`${c.repository}:v1`, `${c.repository}:latest`);
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
  test("pushes to registries with and without auth; refused logins name the registry and reason", async () => {
    const openRepo = `${open.host}/imgb/open`;
    const lockedRepo = `${locked.host}/imgb/locked`;
    const t = template([
      { repository: openRepo, push: {} },
      { repository: lockedRepo, push: { login: true, login_server: locked.host, login_username: AUTH.username, login_password: AUTH.password } },
      { repository: `${locked.host}/imgb/refused`, push: { login: true, login_server: locked.host, login_username: AUTH.username, login_password: "wrong-password" } },
      { repository: `${locked.host}/imgb/anonymous`, push: {} },
    ]);
    const r = await runImgb(["build", "-color=false", t], { cwd: dir, timeoutMs: 180_000 });
    const all = r.stdout + r.stderr;
    // Two chains fail, so the build does; the other two pushed.
    expect(r.exitCode, all).toBe(1);
    expect(r.stdout).toContain(`Pushing: ${openRepo}:v1`);
    expect(r.stdout).toContain(`Pushing: ${openRepo}:latest`);
    expect(r.stdout).toContain(`login to registry ${locked.host} as imgb failed:`);
    expect(r.stdout).toMatch(/login to registry [^\n]*(unauthorized|invalid username\/password)/i);
    expect(r.stdout).toContain(`pushing ${locked.host}/imgb/anonymous:v1 to registry ${locked.host} failed:`);
    expect(r.stdout).toMatch(/pushing [^\n]*anonymous[^\n]*(authentication required|unauthorized)/i);
    expect(all).not.toContain(AUTH.password);
    expect(all).not.toContain("wrong-password");

    const tags = (await (await fetch(`${open.url}/v2/imgb/open/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags.sort()).toEqual(["latest", "v1"]);
    expect(pullAndRead(`${openRepo}:v1`)).toBe("pushed-by-imgb\n");
    expect(pullAndRead(`${lockedRepo}:latest`, `${AUTH.username}:${AUTH.password}`)).toBe("pushed-by-imgb\n");
  }, 180_000);
});
