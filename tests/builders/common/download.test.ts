// Packer's download and HTTP server steps against real loopback HTTP servers: every iso_checksum
// form, the cache named as Packer names it, a dropped connection resumed with Range, a cancelled
// or failed download leaving nothing, URLs tried in turn; the build's HTTP server serving a folder
// (never outside it) or templated texts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestFromSums, parseChecksum, resolveChecksum } from "../../../core/builders/common/checksum.ts";
import { cacheTarget, download, type DownloadOptions } from "../../../core/builders/common/download.ts";
import { startHttpServer } from "../../../core/builders/common/http-server.ts";
import { recordingUi } from "../docker/harness.ts";

let work = "";
const payload = crypto.getRandomValues(new Uint8Array(3 << 20));
const sha256 = new Bun.CryptoHasher("sha256").update(payload).digest("hex");
const md5 = new Bun.CryptoHasher("md5").update(payload).digest("hex");
const sha512 = new Bun.CryptoHasher("sha512").update(payload).digest("hex");

/** A loopback server for the payload: Range support, and a mode that drops the first response half way. */
let server: ReturnType<typeof Bun.serve>;
let requests: string[] = [];
let dropFirst = false;
let slow = false;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "imgb-download-test-"));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const range = req.headers.get("range");
      requests.push(`${url.pathname}${range ? ` ${range}` : ""}`);
      if (url.pathname === "/SHA256SUMS") return new Response(`${"0".repeat(64)}  other.iso\n${sha256} *disk.iso\n`);
      if (url.pathname === "/missing.iso") return new Response("no", { status: 404 });
      if (url.pathname !== "/disk.iso") return new Response("no", { status: 404 });
      const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
      const body = payload.subarray(start);
      const headers = { "content-length": String(body.byteLength), ...(range ? { "content-range": `bytes ${start}-${payload.byteLength - 1}/${payload.byteLength}` } : {}) };
      if (dropFirst && !range) {
        dropFirst = false;
        // Half the body, then the connection ends short of content-length.
        const half = body.subarray(0, body.byteLength >> 1);
        let sent = false;
        return new Response(
          new ReadableStream({
            async pull(c) {
              if (!sent) {
                sent = true;
                c.enqueue(half);
                return;
              }
              await Bun.sleep(100);
              c.error(new Error("dropped"));
            },
          }),
          { headers },
        );
      }
      if (slow) {
        return new Response(new ReadableStream({
          async pull(c) {
            await Bun.sleep(50);
            c.enqueue(body.subarray(0, 64 << 10));
          },
        }), { headers });
      }
      return new Response(body, { status: range ? 206 : 200, headers });
    },
  });
});
afterAll(async () => {
  server.stop(true);
  await rm(work, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${server.port}`;

function opts(over: Partial<DownloadOptions> & { cache: string }): DownloadOptions {
  process.env.PACKER_CACHE_DIR = over.cache;
  return {
    urls: [`${base()}/disk.iso`],
    checksum: { kind: "hash", type: "sha256", hex: sha256 },
    checksumText: `sha256:${sha256}`,
    extension: "iso",
    description: "ISO",
    baseDir: work,
    ui: recordingUi(),
    signal: new AbortController().signal,
    ...over,
  };
}

describe("iso_checksum forms", () => {
  test("every Packer form parses; bad ones say why", () => {
    expect(parseChecksum("none")).toEqual({ kind: "none" });
    expect(parseChecksum(`sha256:${sha256.toUpperCase()}`)).toEqual({ kind: "hash", type: "sha256", hex: sha256 });
    expect(parseChecksum(md5)).toEqual({ kind: "hash", type: "md5", hex: md5 });
    expect(parseChecksum(`sha512:${sha512}`)).toEqual({ kind: "hash", type: "sha512", hex: sha512 });
    expect(parseChecksum("file:https://example.invalid/SHA256SUMS")).toEqual({ kind: "file", source: "https://example.invalid/SHA256SUMS" });
    expect(parseChecksum("sha256:file:./SUMS")).toEqual({ kind: "file", source: "./SUMS", type: "sha256" });
    expect(parseChecksum("crc32:abcd")).toEqual({ error: expect.stringContaining('unsupported checksum type "crc32"') });
    expect(parseChecksum(`sha1:${sha256}`)).toEqual({ error: "a sha1 digest has 40 hex digits, got 64" });
    expect(parseChecksum("xyz")).toEqual({ error: '"xyz" is not a hex digest' });
  });
  test("SUMS files in GNU (text and binary mode) and BSD layouts", () => {
    const sums = `# comment\n${"a".repeat(64)}  ./dir/other.iso\n${"b".repeat(64)} *disk.iso\nSHA1 (disk.iso) = ${"c".repeat(40)}\n`;
    expect(digestFromSums(sums, "/x/disk.iso")).toEqual({ type: "sha256", hex: "b".repeat(64) });
    expect(digestFromSums(sums, "disk.iso", "sha1")).toEqual({ type: "sha1", hex: "c".repeat(40) });
    expect(digestFromSums(sums, "other.iso")).toEqual({ type: "sha256", hex: "a".repeat(64) });
    expect(digestFromSums(sums, "none.iso")).toBeUndefined();
  });
});

describe("downloads", () => {
  test("into the cache under Packer's name, verified while streaming; the second run uses the cache", async () => {
    const cache = join(work, "cache1");
    requests = [];
    const r = await download(opts({ cache }));
    expect(r.fetched).toBe(true);
    expect(r.path).toBe(join(cache, `${new Bun.CryptoHasher("sha1").update(`sha256:${sha256}`).digest("hex")}.iso`));
    expect(new Bun.CryptoHasher("sha256").update(await Bun.file(r.path).arrayBuffer()).digest("hex")).toBe(sha256);
    const again = await download(opts({ cache }));
    expect(again).toEqual({ path: r.path, source: `${base()}/disk.iso`, fetched: false });
    expect(requests).toEqual(["/disk.iso"]);
    expect(await readdir(cache)).toEqual([r.path.split("/").at(-1)!]);
  });

  test("file: checksum from a URL, md5 and sha512 digests, iso_target_path as a file and as a folder", async () => {
    const cache = join(work, "cache2");
    const sums = await resolveChecksum({ kind: "file", source: `${base()}/SHA256SUMS` }, `${base()}/disk.iso`, { baseDir: work });
    expect(sums).toEqual({ kind: "hash", type: "sha256", hex: sha256 });
    const viaFile = await download(opts({ cache, checksum: { kind: "file", source: `${base()}/SHA256SUMS` }, checksumText: `file:${base()}/SHA256SUMS`, targetPath: join(work, "t/my.iso") }));
    expect(viaFile.path).toBe(join(work, "t/my.iso"));
    const viaMd5 = await download(opts({ cache, checksum: { kind: "hash", type: "md5", hex: md5 }, checksumText: md5, targetPath: join(work, "folder") }));
    expect(viaMd5.path).toBe(join(work, "folder", `${new Bun.CryptoHasher("sha1").update(md5).digest("hex")}.iso`));
    const viaSha512 = await download(opts({ cache, checksum: { kind: "hash", type: "sha512", hex: sha512 }, checksumText: `sha512:${sha512}` }));
    expect(viaSha512.fetched).toBe(true);
  });

  test("a connection dropped half way is resumed with a Range request", async () => {
    const cache = join(work, "cache3");
    requests = [];
    dropFirst = true;
    const r = await download(opts({ cache }));
    expect(r.fetched).toBe(true);
    expect(requests[0]).toBe("/disk.iso");
    expect(requests[1]).toMatch(/^\/disk\.iso bytes=\d+-$/);
    expect(Number(/bytes=(\d+)-/.exec(requests[1]!)![1])).toBeGreaterThan(0);
    expect(new Bun.CryptoHasher("sha256").update(await Bun.file(r.path).arrayBuffer()).digest("hex")).toBe(sha256);
  });

  test("a checksum mismatch fails and leaves no file; URLs are tried in turn", async () => {
    const cache = join(work, "cache4");
    const wrong = "1".repeat(64);
    const ui = recordingUi();
    await expect(download({ ...opts({ cache, checksum: { kind: "hash", type: "sha256", hex: wrong }, checksumText: wrong }), ui })).rejects.toThrow(
      `checksum mismatch for ${base()}/disk.iso: expected sha256 ${wrong}, got ${sha256}`,
    );
    expect(await readdir(cache)).toEqual([]);
    const r = await download(opts({ cache, urls: [`${base()}/missing.iso`, "ftp-less/nothing-here.iso", `${base()}/disk.iso`] }));
    expect(r.source).toBe(`${base()}/disk.iso`);
  });

  test("a cancelled download leaves no partial file", async () => {
    const cache = join(work, "cache5");
    slow = true;
    const ac = new AbortController();
    const ui = recordingUi();
    const p = download({ ...opts({ cache }), signal: ac.signal, ui });
    await Bun.sleep(300);
    ac.abort();
    await expect(p).rejects.toThrow("cancelled");
    slow = false;
    expect(await readdir(cache)).toEqual([]);
  });

  test("a local file is used in place after its checksum (relative paths from the working directory)", async () => {
    await writeFile(join(work, "local.iso"), payload);
    await writeFile(join(work, "SUMS"), `${sha256}  local.iso\n`);
    const r = await download(opts({ cache: join(work, "cache6"), urls: ["local.iso"], checksum: { kind: "file", source: "SUMS" }, checksumText: "file:SUMS" }));
    expect(r).toEqual({ path: join(work, "local.iso"), source: "local.iso", fetched: false });
    const bad = opts({ cache: join(work, "cache6"), urls: [`file://${join(work, "local.iso")}`], checksum: { kind: "hash", type: "md5", hex: "0".repeat(32) }, checksumText: "0".repeat(32) });
    await expect(download(bad)).rejects.toThrow("checksum mismatch");
  });

  test("cache names follow Packer: sha1 of the checksum text, or of the URL without one", () => {
    process.env.PACKER_CACHE_DIR = "/c";
    expect(cacheTarget("http://h/x.iso", "none", "iso")).toBe(`/c/${new Bun.CryptoHasher("sha1").update("http://h/x.iso").digest("hex")}.iso`);
    expect(cacheTarget("http://h/x.iso", "md5:abc", "img")).toBe(`/c/${new Bun.CryptoHasher("sha1").update("md5:abc").digest("hex")}.img`);
  });
});

describe("the build's HTTP server", () => {
  test("serves http_directory, never a path outside it, only GET and HEAD, on a port of the range", async () => {
    const dir = join(work, "http");
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(join(dir, "preseed.cfg"), "d-i foo\n");
    await writeFile(join(dir, "sub/index.html"), "index\n");
    await writeFile(join(work, "secret"), "secret\n");
    await symlink(join(work, "secret"), join(dir, "escape"));
    const ui = recordingUi();
    const s = await startHttpServer(
      { http_directory: "http", http_content: {}, http_port_min: 18_000, http_port_max: 18_099, http_bind_address: "127.0.0.1" },
      { baseDir: work, ui },
    );
    try {
      expect(s.port).toBeGreaterThanOrEqual(18_000);
      expect(s.port).toBeLessThanOrEqual(18_099);
      const at = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${s.port}${p}`, init);
      expect(await (await at("/preseed.cfg")).text()).toBe("d-i foo\n");
      expect(await (await at("/sub/")).text()).toBe("index\n");
      expect((await at("/../secret")).status).toBe(404);
      expect((await at("/%2e%2e/secret")).status).toBe(404);
      expect((await at("/escape")).status).toBe(404);
      expect((await at("/preseed.cfg", { method: "POST" })).status).toBe(405);
      const head = await at("/preseed.cfg", { method: "HEAD" });
      expect(head.headers.get("content-length")).toBe("8");
      expect(ui.lines).toContain("    HTTP GET /preseed.cfg 200");
    } finally {
      await s.stop();
    }
    expect(await fetch(`http://127.0.0.1:${s.port}/preseed.cfg`).then(() => "open", () => "closed")).toBe("closed");
  });

  test("serves http_content paths with or without a leading slash", async () => {
    const s = await startHttpServer(
      { http_directory: "", http_content: { "/ks.cfg": "kickstart", "user-data": "#cloud-config" }, http_port_min: 0, http_port_max: 0, http_bind_address: "127.0.0.1" },
      { baseDir: work, ui: recordingUi() },
    );
    try {
      expect(await (await fetch(`http://127.0.0.1:${s.port}/ks.cfg`)).text()).toBe("kickstart");
      expect(await (await fetch(`http://127.0.0.1:${s.port}/user-data`)).text()).toBe("#cloud-config");
      expect((await fetch(`http://127.0.0.1:${s.port}/meta-data`)).status).toBe(404);
    } finally {
      await s.stop();
    }
  });
});
