// image_push (capability container_image): pushes names of the input artifact's image to their
// registries through the engine that built it (Packer's docker-push). Each name must resolve to the
// input image itself: a plugin cannot push other local images. Credentials never touch the user's
// own login state or a command line: they go on stdin to `login` with a throwaway auth file
// (podman --authfile, docker --config), used for the pushes and removed after.
// TLS: as docker does for its daemon, a registry on a loopback address (127.0.0.0/8, ::1,
// localhost) is spoken to without TLS verification; elsewhere only when the plugin asks (insecure).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessError, run, runText } from "../../process/child.ts";
import { engineCli, type EngineCli } from "../../builders/docker/engine-cli.ts";
import type { ReplyOf, RequestOf } from "./table.ts";
import type { HostCallContext } from "./context.ts";

/** The registry part of a name, as docker reads it ("docker.io" when the first part is not a host). */
export function registryOf(ref: string): string {
  const first = ref.split("/")[0]!;
  return ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

function isLoopback(registry: string): boolean {
  const host = registry.replace(/^\[/, "").replace(/\](:\d+)?$/, "").replace(/:\d+$/, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The engine's own error lines (not its progress lines), else the end of its stderr. */
function why(e: unknown): string {
  if (e instanceof ProcessError) {
    const lines = e.result.stderrTail.trim().split("\n");
    const errors = lines.filter((l) => /error|denied|unauthorized|refused/i.test(l));
    return (errors.length > 0 ? errors : lines).slice(-3).join("\n") || e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

async function imageId(engine: string[], ref: string, signal: AbortSignal): Promise<string | null> {
  return runText([...engine, "image", "inspect", "--format", "{{.Id}}", ref], { signal }).catch(() => null);
}

/** Engine arguments that point `login`/`push` at a throwaway auth file in `dir`. */
function authArgs(cli: EngineCli, dir: string): { global: string[]; sub: string[] } {
  return cli === "podman" ? { global: [], sub: ["--authfile", join(dir, "auth.json")] } : { global: ["--config", dir], sub: [] };
}

export async function pushImages(ctx: HostCallContext, req: RequestOf<"image_push">): Promise<ReplyOf<"image_push">> {
  const c = ctx.containers;
  if (!c?.image) throw new Error("a container image is not available here (the input artifact is not one)");
  const engine = c.engine;
  const want = await imageId(engine, c.image, ctx.signal);
  for (const ref of req.refs) {
    if (want === null || (await imageId(engine, ref, ctx.signal)) !== want) {
      throw new Error(`${ref} is not a name of the input artifact's image ${c.image}`);
    }
  }
  const cli = await engineCli(engine);
  const dir = await mkdtemp(join(tmpdir(), "imgb-push-auth-"));
  try {
    const auth = authArgs(cli, dir);
    const tls = (registry: string) => (cli === "podman" && (req.insecure || isLoopback(registry)) ? ["--tls-verify=false"] : []);
    if (req.login) {
      await writeFile(join(dir, "auth.json"), "{}", { mode: 0o600 });
      const { server, username, password } = req.login;
      await run([...engine, ...auth.global, "login", ...auth.sub, ...tls(server), "--username", username, "--password-stdin", server], {
        stdin: new TextEncoder().encode(password),
        signal: ctx.signal,
      }).catch((e: unknown) => {
        throw new Error(`login to registry ${server} as ${username} failed: ${why(e)}`);
      });
    }
    const pushed: string[] = [];
    for (const ref of req.refs) {
      const registry = registryOf(ref);
      ctx.ui?.message(`Pushing: ${ref}`);
      await run([...engine, ...(req.login ? auth.global : []), "push", "--quiet", ...(req.login ? auth.sub : []), ...tls(registry), ref], { signal: ctx.signal }).catch((e: unknown) => {
        throw new Error(`pushing ${ref} to registry ${registry} failed: ${why(e)}`);
      });
      pushed.push(ref);
    }
    return { pushed };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
