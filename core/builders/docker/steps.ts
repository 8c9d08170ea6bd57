// The docker builder's steps, in Packer's order: temp dir, pull, run, connect, provision, then
// commit or export. The container is always removed in cleanup, found through --cidfile even when
// `run` failed half way.
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BuildState, Step } from "../types.ts";
import { ProcessError, run, runText } from "../../process/child.ts";
import { containerCommunicator } from "../../communicator/container/index.ts";
import { renderRunCommand, type DockerConfig } from "./config.ts";
import { commitArgs, engineCli, isNoSuchContainer, removeArgs, type EngineCli } from "./engine-cli.ts";

/** What the docker steps share through the build. */
export interface DockerRun {
  tempDir?: string;
  containerId?: string;
  imageId?: string;
  /** Which CLI the engine is, learnt before the container starts (cleanup needs it too). */
  cli?: EngineCli;
}

/** `login` with the password on stdin, so it is never on a command line or in a message. */
async function login(c: DockerConfig, state: BuildState): Promise<void> {
  state.ui.message(`Logging in to ${c.login_server}...`);
  const user = c.login_username ? ["--username", c.login_username, "--password-stdin"] : [];
  try {
    await run(engineArgv(c, "login", ...user, c.login_server), {
      signal: state.signal,
      ...(c.login_username ? { stdin: new TextEncoder().encode(c.login_password) } : {}),
    });
  } catch (e) {
    const reason = e instanceof ProcessError ? e.result.stderrTail.trim() : e instanceof Error ? e.message : String(e);
    throw new Error(`Error logging in to ${c.login_server}${c.login_username ? ` as ${c.login_username}` : ""}: ${reason.replaceAll(c.login_password || "\0", "<sensitive>")}`);
  }
}

export function engineArgv(c: DockerConfig, ...args: string[]): string[] {
  return [c.engine, ...c.engine_args, ...args];
}

export function stepPull(c: DockerConfig): Step {
  return {
    name: "StepPull",
    async run(state) {
      if (!c.pull) return;
      // As Packer's StepPull: log in for the pull only, and log out again whatever happens.
      if (c.login) await login(c, state);
      try {
        state.ui.say(`Pulling Docker image: ${c.image}`);
        const platform = c.platform ? ["--platform", c.platform] : [];
        await run(engineArgv(c, "pull", ...platform, c.image), {
          signal: state.signal,
          onStdout: (b) => state.ui.message(new TextDecoder().decode(b).trimEnd()),
        });
      } finally {
        if (c.login) {
          state.ui.message(`Logging out of ${c.login_server}...`);
          await run(engineArgv(c, "logout", c.login_server)).catch(() => undefined);
        }
      }
    },
  };
}

export function runArguments(c: DockerConfig, tempDir: string, cidFile: string, state?: BuildState): string[] {
  const args = ["run", "--cidfile", cidFile];
  for (const u of c.ulimits) args.push("--ulimit", u);
  args.push("-v", `${tempDir}:${c.container_dir}`);
  for (const [host, inside] of Object.entries(c.volumes)) args.push("-v", `${host}:${inside}`);
  if (c.privileged) args.push("--privileged");
  for (const cap of c.cap_add) args.push("--cap-add", cap);
  for (const cap of c.cap_drop) args.push("--cap-drop", cap);
  for (const dev of c.device) args.push("--device", dev);
  for (const t of c.tmpfs) args.push("--tmpfs", t);
  if (c.platform) args.push("--platform", c.platform);
  args.push(...renderRunCommand(c.run_command, c.image, state?.build, state?.templateDir));
  return args;
}

export function stepRunContainer(c: DockerConfig, r: DockerRun): Step {
  const cidFile = () => join(r.tempDir!, "container.id");
  return {
    name: "StepRunContainer",
    async run(state) {
      state.ui.say("Starting docker container...");
      r.cli = await engineCli(engineArgv(c));
      const argv = engineArgv(c, ...runArguments(c, r.tempDir!, cidFile(), state));
      state.ui.message(`Run command: ${argv.join(" ")}`);
      await run(argv, { signal: state.signal, captureStdout: true });
      r.containerId = (await readFile(cidFile(), "utf8")).trim();
      state.ui.message(`Container ID: ${r.containerId}`);
    },
    async cleanup(state) {
      const id = r.containerId ?? (await readFile(cidFile(), "utf8").catch(() => "")).trim();
      if (!id) return;
      state.ui.say(`Killing the container: ${id}`);
      // A fresh signal: cleanup must finish even when the build was cancelled.
      await run(engineArgv(c, ...removeArgs(r.cli ?? "podman", id)), { graceMs: 30_000 }).catch((err: unknown) => {
        if (!(err instanceof ProcessError && isNoSuchContainer(err.result.stderrTail))) throw err;
      });
      r.containerId = undefined;
    },
    abandon: () =>
      r.containerId
        ? `container ${r.containerId} stays running; remove it with: ${engineArgv(c, ...removeArgs(r.cli ?? "podman", r.containerId)).filter((a) => a !== "--ignore").join(" ")}`
        : undefined,
  };
}

export function stepConnectContainer(c: DockerConfig, r: DockerRun) {
  return async (state: BuildState) => {
    // Packer's docker communicator copies files in as root, then hands them to the user the
    // container runs as (run_command's -u, or the image's USER), or to exec_user.
    let owner = "";
    if (c.fix_upload_owner) {
      owner = c.exec_user || (await runText(engineArgv(c, "inspect", "--format", "{{.Config.User}}", r.containerId!), { signal: state.signal }));
    }
    return containerCommunicator({
      engine: c.engine,
      engineArgs: c.engine_args,
      containerId: r.containerId!,
      execUser: c.exec_user,
      uploadOwner: owner,
    });
  };
}

export function stepCommit(c: DockerConfig, r: DockerRun): Step {
  return {
    name: "StepCommit",
    async run(state) {
      state.ui.say("Committing the container");
      const args = commitArgs(r.cli ?? "podman", c, r.containerId!);
      r.imageId = await runText(engineArgv(c, ...args), { signal: state.signal });
      state.ui.message(`Image ID: ${r.imageId}`);
      state.setGenerated("ImageSha256", r.imageId);
    },
  };
}

export function stepExport(c: DockerConfig, r: DockerRun): Step {
  return {
    name: "StepExport",
    async run(state) {
      state.ui.say("Exporting the container");
      await mkdir(dirname(c.export_path), { recursive: true });
      await run(engineArgv(c, "export", "-o", c.export_path, r.containerId!), { signal: state.signal });
    },
  };
}
