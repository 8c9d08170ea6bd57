// Packer's StepHTTPServer (packer-plugin-sdk commonsteps): while the machine installs itself, serve
// http_directory, or the http_content map (path -> text), on a free port in
// [http_port_min, http_port_max] of http_bind_address. Only GET and HEAD; a path never leaves the
// directory; every request is logged on the UI so a failed install shows what the guest asked for.
import { realpath, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type { Ui } from "../../ui/types.ts";
import { defineFields, type ConfigOf } from "../../config/schema.ts";

export const httpConfigFields = defineFields([
  { name: "http_directory", type: "string", default: "", description: "Serve this folder to the guest while it installs." },
  { name: "http_content", type: "map(string)", default: {}, description: "Serve these texts (path -> content) instead of a folder." },
  { name: "http_port_min", type: "number", default: 8000 },
  { name: "http_port_max", type: "number", default: 9000 },
  { name: "http_bind_address", type: "string", default: "0.0.0.0" },
]);
export type HttpConfig = ConfigOf<typeof httpConfigFields>;

export function checkHttpConfig(c: HttpConfig): string[] {
  const errs: string[] = [];
  if (c.http_directory && Object.keys(c.http_content).length > 0) errs.push("http_directory and http_content cannot both be set");
  if (!(c.http_port_min >= 0 && c.http_port_max <= 65535 && c.http_port_min <= c.http_port_max)) {
    errs.push("http_port_min..http_port_max is not a port range");
  }
  return errs;
}

export function httpWanted(c: HttpConfig): boolean {
  return c.http_directory !== "" || Object.keys(c.http_content).length > 0;
}

export interface RunningHttpServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts the server on the first free port of the range, tried in random order. */
export async function startHttpServer(c: HttpConfig, o: { baseDir: string; ui: Ui }): Promise<RunningHttpServer> {
  const handler = c.http_directory
    ? await directoryHandler(resolve(o.baseDir, c.http_directory))
    : contentHandler(c.http_content);
  const ports: number[] = [];
  for (let p = c.http_port_min; p <= c.http_port_max; p++) ports.push(p);
  for (let i = ports.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ports[i], ports[j]] = [ports[j]!, ports[i]!];
  }
  let lastError = "";
  for (const port of ports.slice(0, 200)) {
    try {
      const server = Bun.serve({
        hostname: c.http_bind_address,
        port,
        async fetch(req) {
          const res = await handler(req);
          o.ui.message(`HTTP ${req.method} ${new URL(req.url).pathname} ${res.status}`);
          return res;
        },
      });
      o.ui.say(`Starting HTTP server on port ${server.port}`);
      return { port: server.port ?? port, stop: () => server.stop(true) };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  throw new Error(`no free HTTP port between ${c.http_port_min} and ${c.http_port_max} on ${c.http_bind_address}: ${lastError}`);
}

type Handler = (req: Request) => Promise<Response>;

function methodAllowed(req: Request): Response | undefined {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
}

function contentHandler(content: Record<string, string>): Handler {
  const byPath = new Map<string, string>();
  for (const [k, v] of Object.entries(content)) byPath.set(k.startsWith("/") ? k : `/${k}`, v);
  return async (req) => {
    const refused = methodAllowed(req);
    if (refused) return refused;
    const text = byPath.get(decodeURIComponent(new URL(req.url).pathname));
    if (text === undefined) return new Response("404 page not found\n", { status: 404 });
    return new Response(req.method === "HEAD" ? null : text, { headers: { "content-length": String(Buffer.byteLength(text)) } });
  };
}

async function directoryHandler(dir: string): Promise<Handler> {
  const root = await realpath(dir).catch(() => {
    throw new Error(`http_directory ${dir}: no such folder`);
  });
  return async (req) => {
    const refused = methodAllowed(req);
    if (refused) return refused;
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return new Response("bad path\n", { status: 400 });
    }
    // Symbolic links are followed only where they stay inside the folder.
    const real = await realpath(join(root, path)).catch(() => undefined);
    if (!real || (real !== root && !real.startsWith(root + sep))) return new Response("404 page not found\n", { status: 404 });
    const info = await stat(real);
    let file = real;
    if (info.isDirectory()) {
      file = join(real, "index.html");
      if (!(await Bun.file(file).exists())) return new Response("404 page not found\n", { status: 404 });
    }
    return new Response(req.method === "HEAD" ? null : Bun.file(file), { headers: { "content-length": String(Bun.file(file).size) } });
  };
}
