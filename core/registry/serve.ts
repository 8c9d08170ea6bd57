// `imgb registry serve`: a static file server for a registry folder. Only GET/HEAD, only regular
// files inside the folder (no `..`, no symlinks out, no directory listings). Listens on 127.0.0.1
// unless told otherwise.
import { realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";

export interface RegistryServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = { json: "application/json", wasm: "application/wasm" };

export async function serveRegistry(dir: string, opts: { port?: number; hostname?: string } = {}): Promise<RegistryServer> {
  const root = await realpath(dir);
  const server = Bun.serve({
    hostname: opts.hostname ?? "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req) {
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
      let rel: string;
      try {
        rel = decodeURIComponent(new URL(req.url).pathname);
      } catch {
        return new Response("bad path\n", { status: 400 });
      }
      if (rel.includes("\0") || rel.split("/").some((p) => p === ".." || p === ".")) return new Response("bad path\n", { status: 400 });
      const candidate = resolve(root, `.${rel}`);
      let real: string;
      try {
        real = await realpath(candidate);
      } catch {
        return new Response("not found\n", { status: 404 });
      }
      if (!real.startsWith(root + sep)) return new Response("not found\n", { status: 404 });
      const st = await stat(real).catch(() => undefined);
      if (!st?.isFile()) return new Response("not found\n", { status: 404 });
      const ext = real.slice(real.lastIndexOf(".") + 1);
      return new Response(Bun.file(real), {
        headers: { "content-type": TYPES[ext] ?? "application/octet-stream", "cache-control": "no-cache" },
      });
    },
  });
  const port = server.port ?? 0;
  return {
    url: `http://${opts.hostname ?? "127.0.0.1"}:${port}`,
    port,
    stop: async () => {
      await server.stop(true);
    },
  };
}
