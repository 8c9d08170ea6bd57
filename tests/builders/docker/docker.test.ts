// The docker builder against real rootful podman: a container from a locally made Debian image,
// provisioned through the container communicator, committed, exported, and always removed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, mkdir, rm, writeFile, readFile, stat, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerBuilderFactory } from "../../../core/builders/docker/index.ts";
import { run, runText, spawnChild } from "../../../core/process/child.ts";
import { podmanBaseImage } from "../../support/images.ts";
import { engineCli } from "../../../core/builders/docker/engine-cli.ts";
import { leftovers, runBuild, sh } from "./harness.ts";

const ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000"];
let image = "";
let work = "";
let containersBefore: string[] = [];

let netnsBefore: string[] = [];
beforeAll(async () => {
  netnsBefore = (await leftovers()).netns;
  image = await podmanBaseImage();
  work = await mkdtemp(join(tmpdir(), "imgb-docker-test-"));
  containersBefore = (await leftovers()).containers;
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function expectNothingLeft() {
  const left = await leftovers();
  expect(left.netns.filter((n) => !netnsBefore.includes(n))).toEqual([]);
  expect(left.children).toEqual([]);
  expect(left.containers.filter((c) => !containersBefore.includes(c))).toEqual([]);
}

describe("docker builder config", () => {
  const build = { buildName: "docker", sourceName: "docker", builderType: "docker", generated: {}, placeholders: true };
  test("a valid config makes a builder with Packer's defaults", () => {
    const { builder, diagnostics } = dockerBuilderFactory.create({ image: "x", commit: true }, build);
    expect(diagnostics).toEqual([]);
    expect(builder?.steps().map((s) => s.name)).toEqual([
      "StepTempDir",
      "StepPull",
      "StepRunContainer",
      "StepConnect",
      "StepProvision",
      "StepCommit",
    ]);
  });
  test("reports every problem at once, without side effects", () => {
    const { builder, diagnostics } = dockerBuilderFactory.create(
      { commit: true, discard: true, changes: ["RUN rm -rf /"], pull: "maybe", bogus: 1 },
      build,
    );
    expect(builder).toBeUndefined();
    const text = diagnostics.map((d) => d.summary).join("\n");
    expect(text).toContain(`unknown configuration key: '"bogus"'`);
    expect(text).toContain(`cannot parse 'pull' as bool: strconv.ParseBool: parsing "maybe": invalid syntax`);
    const second = dockerBuilderFactory.create({ commit: true, discard: true, changes: ["RUN rm -rf /"] }, build);
    const text2 = second.diagnostics.map((d) => d.summary).join("\n");
    expect(text2).toContain('"image" must be specified');
    expect(text2).toContain("both commit and discard cannot be set");
    expect(text2).toContain('"RUN rm -rf /": unknown instruction');
  });
  test("one of commit, discard or export_path is required; weak JSON values decode", () => {
    expect(dockerBuilderFactory.create({ image: "x" }, build).diagnostics[0]?.summary).toContain(
      "one of commit, discard, or export_path must be set",
    );
    expect(dockerBuilderFactory.create({ image: "x", discard: "true", pull: "false" }, build).builder).toBeDefined();
  });
});

describe("docker builder on podman", () => {
  test(
    "commit: provisioned files, modes, changes and author are in the image",
    async () => {
      const srcDir = join(work, "tree");
      await mkdir(join(srcDir, "sub"), { recursive: true });
      await writeFile(join(srcDir, "sub", "tool.sh"), "#!/bin/sh\necho tool\n");
      await chmod(join(srcDir, "sub", "tool.sh"), 0o750);
      await writeFile(join(srcDir, "sub", "scratch.tmp"), "left out");
      const outcome = await runBuild(
        dockerBuilderFactory,
        {
          image,
          pull: false,
          commit: true,
          author: "imgb tests",
          message: "provisioned",
          changes: ['ENTRYPOINT ["/bin/cat"]', 'CMD ["/etc/imgb-provisioned"]', "ENV IMGB_TEST=yes", "LABEL imgb.test=docker"],
        },
        async (comm) => {
          const first = await sh(comm, "echo provisioned-by-hook > /etc/imgb-provisioned && echo done; echo warn >&2; exit 7");
          expect(first).toMatchObject({ result: { kind: "exited", exitStatus: 7 }, stdout: "done\n", stderr: "warn\n" });
          const withStdin = await comm.start(
            { command: "cat > /root/stdin.txt", stdin: new TextEncoder().encode("from stdin") },
            new AbortController().signal,
          );
          expect(withStdin).toEqual({ kind: "exited", exitStatus: 0 });
          await comm.upload("/usr/local/bin/hello", { kind: "bytes", data: new TextEncoder().encode("#!/bin/sh\necho hi\n") }, { mode: 0o755 }, new AbortController().signal);
          await comm.uploadDir("/opt/tree", `${srcDir}/`, [], new AbortController().signal);
          // rsync rules: without the trailing slash the folder itself is copied; excludes are globs.
          await comm.uploadDir("/opt/whole", srcDir, ["*.tmp"], new AbortController().signal);
          const rules = await sh(comm, "ls /opt/tree/sub /opt/whole/tree/sub");
          expect(rules.stdout).toBe("/opt/tree/sub:\nscratch.tmp\ntool.sh\n\n/opt/whole/tree/sub:\ntool.sh\n");
          await comm.download("/etc/imgb-provisioned", { kind: "file", path: join(work, "dl", "provisioned") }, new AbortController().signal);
          expect(await readFile(join(work, "dl", "provisioned"), "utf8")).toBe("provisioned-by-hook\n");
          const back = await comm.download("/root/stdin.txt", { kind: "bytes" }, new AbortController().signal);
          expect(new TextDecoder().decode(back!)).toBe("from stdin");
          await comm.downloadDir("/opt/tree", join(work, "back"), [], new AbortController().signal);
        },
      );
      expect(outcome.error).toBeUndefined();
      const artifact = outcome.artifact!;
      expect(artifact.builderId).toBe("packer.post-processor.docker-import");
      expect(outcome.generated.ImageSha256).toBe(artifact.id);
      expect(artifact.string).toBe(`Imported Docker image: ${artifact.id}`);
      expect((await stat(join(work, "back", "tree", "sub", "tool.sh"))).mode & 0o777).toBe(0o750);

      const output = await runText(["podman", "run", "--rm", ...ULIMITS, artifact.id]);
      expect(output).toBe("provisioned-by-hook");
      const listing = await runText([
        "podman", "run", "--rm", ...ULIMITS, "--entrypoint", "/bin/sh", artifact.id, "-c",
        "stat -c '%a %n' /usr/local/bin/hello /opt/tree/sub/tool.sh; /usr/local/bin/hello; echo $IMGB_TEST",
      ]);
      expect(listing).toBe("755 /usr/local/bin/hello\n750 /opt/tree/sub/tool.sh\nhi\nyes");
      const inspected = JSON.parse(await runText(["podman", "inspect", artifact.id]))[0];
      expect(inspected.Author).toBe("imgb tests");
      expect(inspected.Labels["imgb.test"]).toBe("docker");

      await artifact.destroy();
      expect((await spawnChild(["podman", "image", "exists", artifact.id]).done).exitCode).toBe(1);
      await expectNothingLeft();
    },
    120_000,
  );

  test(
    "export_path: the container filesystem as a tar, with exec_user and a mounted volume",
    async () => {
      const vol = join(work, "vol");
      await mkdir(vol, { recursive: true });
      await writeFile(join(vol, "input.txt"), "from the host");
      const exportPath = join(work, "out", "rootfs.tar");
      const outcome = await runBuild(
        dockerBuilderFactory,
        { image, pull: false, export_path: exportPath, exec_user: "nobody", volumes: { [vol]: "/mnt/vol" } },
        async (comm) => {
          const who = await sh(comm, "id -un; cat /mnt/vol/input.txt; cp /mnt/vol/input.txt /tmp/copied && echo ok > /tmp/by-nobody");
          expect(who.stdout).toBe("nobody\nfrom the host");
        },
      );
      expect(outcome.error).toBeUndefined();
      expect(outcome.artifact?.files).toEqual([exportPath]);
      expect(await runText(["tar", "-xOf", exportPath, "tmp/copied"])).toBe("from the host");
      const owner = await runText(["tar", "-tvf", exportPath, "tmp/by-nobody"]);
      expect(owner).toContain("nobody");
      await outcome.artifact!.destroy();
      expect(await readFile(exportPath).catch(() => null)).toBeNull();
      await expectNothingLeft();
    },
    120_000,
  );

  test(
    "a failing provisioner and a cancelled build both remove the container",
    async () => {
      const failed = await runBuild(dockerBuilderFactory, { image, pull: false, discard: true }, async () => {
        throw new Error("provisioner failed on purpose");
      });
      expect(failed.failedStep).toBe("StepProvision");
      expect(String(failed.error)).toContain("provisioner failed on purpose");
      expect(failed.ui.lines.some((l) => l.includes("Killing the container"))).toBe(true);
      await expectNothingLeft();

      const ctl = new AbortController();
      const started = performance.now();
      const cancelled = await runBuild(
        dockerBuilderFactory,
        { image, pull: false, discard: true },
        async (comm) => {
          setTimeout(() => ctl.abort(), 500);
          await sh(comm, "sleep 60", ctl.signal);
        },
        ctl.signal,
      );
      expect(String(cancelled.error)).toContain("cancelled");
      expect(performance.now() - started).toBeLessThan(20_000);
      await expectNothingLeft();
    },
    120_000,
  );

  test(
    "a run_command that fails leaves no container behind",
    async () => {
      const outcome = await runBuild(
        dockerBuilderFactory,
        { image, pull: false, discard: true, run_command: ["-d", "--entrypoint=/nonexistent", "{{.Image}}"] },
        async () => {},
      );
      expect(outcome.failedStep).toBe("StepRunContainer");
      await expectNothingLeft();
    },
    60_000,
  );
});

// The docker CLI against podman's API socket: the same builder with engine = "docker", through the
// binary (DOCKER_HOST reaches the engine through imgb's environment). podman 4.3's API cannot take
// docker 28's `commit` (an empty body: "Decode(): EOF"), so this exports instead.
describe("docker builder with the docker CLI on podman's API socket", () => {
  const dockerCli = Bun.which("docker");
  const hasDockerCli = dockerCli !== null && !/podman/i.test(Bun.spawnSync([dockerCli, "--version"]).stdout.toString());
  test("commit and rm use each CLI's own flags", async () => {
    const { commitArgs, removeArgs } = await import("../../../core/builders/docker/engine-cli.ts");
    expect(await engineCli(["podman"])).toBe("podman");
    expect(commitArgs("docker", { author: "a", message: "", changes: ["USER x"] }, "c1")).toEqual(["commit", "--author", "a", "--change", "USER x", "c1"]);
    expect(commitArgs("podman", { author: "", message: "m", changes: [] }, "c1")).toEqual(["commit", "-q", "--format", "docker", "--message", "m", "c1"]);
    expect(removeArgs("docker", "c1")).toEqual(["rm", "--force", "c1"]);
    expect(removeArgs("podman", "c1")).toEqual(["rm", "--force", "--ignore", "--time", "0", "c1"]);
    await expect(engineCli(["/nonexistent/engine"])).rejects.toThrow("cannot run the container engine /nonexistent/engine");
  });

  test.skipIf(!hasDockerCli)(
    "provisions, exports and removes the container (docker CLI present on this machine)",
    async () => {
      const { runImgb } = await import("../../support/binary.ts");
      const socket = join(work, "podman.sock");
      const service = spawnChild(["podman", "system", "service", "--time=0", `unix://${socket}`]);
      const dir = join(work, "docker-cli");
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, "t.json"),
        JSON.stringify({
          builders: [{ type: "docker", engine: "docker", image, pull: false, export_path: "fs.tar" }],
          provisioners: [
            { type: "shell", inline: ["echo via-docker-cli > /marker"] },
            { type: "file", content: "uploaded", destination: "/uploaded.txt" },
          ],
        }),
      );
      try {
        for (let i = 0; i < 100 && !(await stat(socket).catch(() => null)); i++) await Bun.sleep(50);
        expect(await engineCli(["docker"])).toBe("docker");
        const r = await runImgb(["build", "-color=false", "t.json"], { cwd: dir, env: { DOCKER_HOST: `unix://${socket}` }, timeoutMs: 120_000 });
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toContain("Run command: docker run");
        expect(r.stdout).not.toContain("failed");
        expect(await runText(["tar", "-xOf", join(dir, "fs.tar"), "marker"])).toBe("via-docker-cli");
        expect(await runText(["tar", "-xOf", join(dir, "fs.tar"), "uploaded.txt"])).toBe("uploaded");
      } finally {
        await service.stop(5000);
      }
      await expectNothingLeft();
    },
    120_000,
  );
});
