// docker-tag, docker-save and docker-import through the compiled binary, on images the docker builder
// commits (or filesystems it exports) with podman: the names land in the engine, the saved tar is one
// the engine made, and the plugins reach nothing but the input artifact's image or files and the
// granted folders.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";
import { podmanBaseImage } from "../support/images.ts";

const dirs: string[] = [];
const names: string[] = [];
afterAll(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  for (const n of names) Bun.spawnSync(["podman", "rmi", "-f", n]);
}, 60_000); // each podman rmi takes a second or more on a busy machine

async function build(postProcessors: unknown, builder: object | null = null, provisioner: object = { type: "shell-local", inline: ["true"] }) {
  const image = await podmanBaseImage();
  const dir = mkdtempSync(join(tmpdir(), "imgb-e2e-docker-pp-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "t.json"),
    JSON.stringify({
      builders: [builder ?? { type: "docker", image, commit: true, pull: false }],
      provisioners: [provisioner],
      "post-processors": postProcessors,
    }),
  );
  const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir, timeoutMs: 120_000 });
  // The committed image outlives a failed post-processor (as in Packer): removed after the file.
  const built = /Image ID: ([0-9a-f]{64})/.exec(r.stdout)?.[1];
  if (built) names.push(built);
  return { dir, r };
}

function imageId(ref: string): string {
  return Bun.spawnSync(["podman", "image", "inspect", "--format", "{{.Id}}", ref]).stdout.toString().trim();
}

describe("docker-tag, docker-save and docker-import", () => {
  test("tags the committed image once per tag, then saves it under the last name", async () => {
    const repo = `localhost/imgb-test/tagged-${process.pid}`;
    names.push(`${repo}:v1`, `${repo}:latest`);
    const { dir, r } = await build([[
      { type: "docker-tag", repository: repo, tags: "v1,latest" },
      { type: "docker-save", path: "image.tar" },
    ]]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const built = /Image ID: ([0-9a-f]{64})/.exec(r.stdout)?.[1];
    expect(built, r.stdout).toBeTruthy();
    expect(imageId(`${repo}:v1`)).toBe(built!);
    expect(imageId(`${repo}:latest`)).toBe(built!);
    expect(r.stdout).toContain(`(docker-tag): Tagging image: ${built}`);
    expect(r.stdout).toContain(`(docker-tag): Repository: ${repo}:v1`);
    expect(r.stdout).toContain(`(docker-save): Saving image: ${repo}:latest`);
    expect(r.stdout).toContain(`--> docker: Imported Docker image: ${repo}:latest`);
    // The builder's image is kept (docker-tag forces it) and listed first, as Packer lists it.
    expect(r.stdout).toContain(`--> docker: Imported Docker image: ${built}`);
    const manifest = JSON.parse(Bun.spawnSync(["tar", "-xOf", join(dir, "image.tar"), "manifest.json"]).stdout.toString());
    expect(manifest[0].RepoTags).toEqual([`${repo}:latest`]);
    expect(manifest[0].Config).toStartWith(built!);
  }, 180_000);

  test("a repository without tags is tagged as it is", async () => {
    const repo = `localhost/imgb-test/bare-${process.pid}`;
    names.push(repo);
    const { r } = await build([{ type: "docker-tag", repository: repo }]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(imageId(`${repo}:latest`)).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout).toContain(`Repository: ${repo}\n`);
  }, 180_000);

  test("docker-save may not write outside the working and output folders; nothing is written", async () => {
    const outside = join(mkdtempSync(join(tmpdir(), "imgb-outside-")), "x.tar");
    dirs.push(join(outside, ".."));
    const { r } = await build([{ type: "docker-save", path: outside }]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      `plugin docker-save: capability container_image refused for ${JSON.stringify(outside)}: outside the working directory and the output directory`,
    );
    expect(existsSync(outside)).toBe(false);
    expect(r.stderr).not.toContain("    at ");
  }, 180_000);

  test("a name that is not an image name is refused before the engine sees it", async () => {
    const { r } = await build([{ type: "docker-tag", repository: "--help" }]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toContain("plugin docker-tag: host call image_tag: malformed request at ref");
  }, 180_000);

  test("only docker images: another builder's artifact is refused with Packer's words", async () => {
    const { r } = await build([{ type: "docker-tag", repository: "localhost/x" }], { type: "file", target: "f.txt", content: "x" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toContain("Unknown artifact type: packer.file");
    expect(r.stdout + r.stderr).toContain("Can only tag from Docker builder artifacts.");
  }, 60_000);

  test("docker-import: the exported filesystem becomes an image with its changes; the tar goes unless kept", async () => {
    const repo = `localhost/imgb-test/imported-${process.pid}`;
    names.push(`${repo}:v1`, `${repo}:latest`);
    const image = await podmanBaseImage();
    const { dir, r } = await build(
      [[
        { type: "docker-import", repository: repo, tag: "v1", changes: ['CMD ["/bin/cat", "/imgb-marker"]', "ENV IMPORTED=yes"] },
        { type: "docker-tag", repository: repo, tags: ["latest"] },
      ]],
      { type: "docker", image, export_path: "fs.tar", pull: false },
      { type: "shell", inline: ["echo imported-from-export > /imgb-marker"] },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`(docker-import): Repository: ${repo}:v1`);
    expect(r.stdout).toMatch(/\(docker-import\): Imported ID: (sha256:)?[0-9a-f]{64}/);
    expect(imageId(`${repo}:latest`)).toBe(imageId(`${repo}:v1`));
    const ran = Bun.spawnSync(["podman", "run", "--rm", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000", `${repo}:latest`]);
    expect(ran.stdout.toString(), ran.stderr.toString()).toBe("imported-from-export\n");
    expect(Bun.spawnSync(["podman", "image", "inspect", "--format", "{{.Config.Env}}", `${repo}:v1`]).stdout.toString()).toContain("IMPORTED=yes");
    // docker-import does not keep its input (Packer's rule): the exported tar is gone.
    expect(existsSync(join(dir, "fs.tar"))).toBe(false);
    expect(r.stdout).not.toContain("Exported Docker file: fs.tar");

    const kept = await build(
      [{ type: "docker-import", repository: repo, tag: "v1", keep_input_artifact: true }],
      { type: "docker", image, export_path: "fs.tar", pull: false },
    );
    expect(kept.r.exitCode, kept.r.stdout + kept.r.stderr).toBe(0);
    expect(existsSync(join(kept.dir, "fs.tar"))).toBe(true);
    expect(kept.r.stdout).toContain("--> docker: Exported Docker file: fs.tar");
  }, 180_000);

  test("docker-import takes only docker and artifice artifacts, in Packer's words", async () => {
    const { r } = await build([{ type: "docker-import", repository: "localhost/x" }], { type: "file", target: "f.txt", content: "x" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toContain("Unknown artifact type: packer.file");
    expect(r.stdout + r.stderr).toContain("Can only import from Docker builder and Artifice post-processor artifacts.");
  }, 60_000);

  test("validate: repository and path are required", async () => {
    const dir = mkdtempSync(join(tmpdir(), "imgb-e2e-docker-pp-"));
    dirs.push(dir);
    writeFileSync(
      join(dir, "t.json"),
      JSON.stringify({
        builders: [{ type: "docker", image: "x", commit: true }],
        "post-processors": [{ type: "docker-tag", tags: ["a"] }, { type: "docker-save" }],
      }),
    );
    const r = await runImgb(["validate", "t.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Error: required configuration key 'repository' is not set\n\n  on t.json:1:");
    expect(r.stderr).toContain("Error: required configuration key 'path' is not set");
  });
});
