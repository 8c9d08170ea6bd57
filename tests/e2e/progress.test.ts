// Progress of downloads as a person, a log and a program see it, through the compiled binary: two
// parallel builds download from a slow loopback server. On a terminal (a pty made by `script`) each
// transfer is an in-place bar (cli-progress) after its build's name, and the builds' lines stay whole
// above the bars; without a terminal there are quarter lines; with -json-events, progress events.
// The builds then fail at once (no qemu binary): only the downloads are under test.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { requireBinary, runImgb } from "../support/binary.ts";

const SIZE = 6 << 20;
const payload = crypto.getRandomValues(new Uint8Array(SIZE));
const sha = new Bun.CryptoHasher("sha256").update(payload).digest("hex");
let server: Server;
let port = 0;
let dir = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "imgb-progress-test-"));
  // node:http sends the content-length of a streamed body (Bun.serve's streams go chunked).
  server = createServer(async (_req, res) => {
    res.writeHead(200, { "content-length": String(SIZE) });
    for (let at = 0; at < SIZE; at += 256 << 10) {
      await Bun.sleep(40);
      res.write(payload.subarray(at, at + (256 << 10)));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function template(run: string): string {
  const builder = (name: string) => ({
    type: "qemu",
    name,
    iso_url: `http://127.0.0.1:${port}/${name}.iso`,
    iso_checksum: `sha256:${sha}`,
    iso_target_path: join(dir, run, `${name}.iso`),
    qemu_binary: "/nonexistent/qemu-system-x86_64",
    accelerator: "tcg",
    communicator: "none",
    output_directory: join(dir, run, `out-${name}`),
  });
  const path = join(dir, `${run}.json`);
  writeFileSync(path, JSON.stringify({ builders: [builder("alpha"), builder("beta")] }));
  return path;
}

test("on a terminal: one bar per download with its build's name; the builds' lines stay whole", async () => {
  const cmd = `${requireBinary()} build ${template("tty")}`;
  const proc = Bun.spawn(["script", "-q", "-e", "-c", cmd, "/dev/null"], {
    env: { ...process.env, TERM: "xterm-256color", COLUMNS: "160", LINES: "40" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const plain = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  expect(plain).toMatch(/ {4}alpha: Downloading ISO \[[█░]+\]\s+\d+% \| [\d.]+\/6\.0 MiB/);
  expect(plain).toMatch(/ {4}beta: Downloading ISO \[[█░]+\]\s+\d+% \| [\d.]+\/6\.0 MiB/);
  // Bars are redrawn in place (cursor movement), and every build line arrives whole on its own line.
  expect(out).toMatch(/\x1b\[\d*[AGK]/);
  for (const name of ["alpha", "beta"]) {
    expect(plain).toContain(`==> ${name}: Trying http://127.0.0.1:${port}/${name}.iso\r\n`);
    expect(plain).toMatch(new RegExp(`\\r\\n    ${name}: Downloading ISO: done, 6\\.0 MiB in [\\d.]+ s\\r\\n`));
  }
  expect(plain).not.toContain("Downloading ISO: 25%");
}, 60_000);

test("in a log: quarter lines; with -json-events: progress events", async () => {
  const log = await runImgb(["build", "-color=false", template("log")], { timeoutMs: 60_000 });
  expect(log.stdout).not.toContain("█");
  for (const q of [25, 50, 75]) expect(log.stdout).toContain(`    alpha: Downloading ISO: ${q}% (`);
  expect(log.stdout).toMatch(/ {4}beta: Downloading ISO: done, 6\.0 MiB in/);

  const json = await runImgb(["build", "-json-events", template("json")], { timeoutMs: 60_000 });
  const events = json.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const progress = events.filter((e) => e.type === "progress");
  for (const build of ["alpha", "beta"]) {
    const mine = progress.filter((e) => e.build === build);
    expect(mine.length).toBeGreaterThan(2);
    expect(mine.at(-1)).toMatchObject({ label: "Downloading ISO", done: SIZE, total: SIZE, finished: true });
  }
}, 90_000);
