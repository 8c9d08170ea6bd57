// The few places where podman's CLI and docker's differ for what the docker builder does. `run`,
// `exec`, `export`, `pull`, `tag` and `save` take the same arguments; `commit` and `rm` do not
// (podman's `commit -q --format` and `rm --ignore --time` are unknown to docker). Which CLI `engine`
// is comes from its own `--version` ("podman version 4.3.1", "Docker version 28.2.2"), so a
// `docker` that is podman (podman-docker) counts as podman.
import { runText } from "../../process/child.ts";

export type EngineCli = "podman" | "docker";

const known = new Map<string, Promise<EngineCli>>();

export function engineCli(engine: string[]): Promise<EngineCli> {
  const key = engine.join("\0");
  let cli = known.get(key);
  if (!cli) {
    cli = runText([...engine, "--version"]).then(
      (text) => (/^podman\b/i.test(text) ? "podman" : "docker"),
      (err: unknown) => {
        known.delete(key);
        throw new Error(`cannot run the container engine ${engine[0]}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    known.set(key, cli);
  }
  return cli;
}

export interface CommitOptions {
  author: string;
  message: string;
  changes: string[];
}

/** `commit` printing only the new image's id; podman writes the docker image format (keeps ONBUILD, HEALTHCHECK). */
export function commitArgs(cli: EngineCli, o: CommitOptions, containerId: string): string[] {
  const args = cli === "podman" ? ["commit", "-q", "--format", "docker"] : ["commit"];
  if (o.author) args.push("--author", o.author);
  if (o.message) args.push("--message", o.message);
  for (const change of o.changes) args.push("--change", change);
  return [...args, containerId];
}

/** Remove a container now, running or not; a container that is already gone is not an error. */
export function removeArgs(cli: EngineCli, containerId: string): string[] {
  return cli === "podman" ? ["rm", "--force", "--ignore", "--time", "0", containerId] : ["rm", "--force", containerId];
}

/** docker's `rm` of a missing container exits 1 with this; podman's --ignore makes it exit 0. */
export function isNoSuchContainer(stderr: string): boolean {
  return /No such container/i.test(stderr);
}
