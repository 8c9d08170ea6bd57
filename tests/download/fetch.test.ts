// core/download's staged download against a real loopback HTTP server: a link planted under the part
// file's name is never written through, a body past the cap stops the download and leaves nothing,
// and a refused checksum leaves nothing either.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DownloadError, fetchToFile, partPath } from "../../core/download/fetch.ts";

const BODY = new Uint8Array(200_000).fill(7);
let server: ReturnType<typeof Bun.serve>;
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "imgb-fetch-"));
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(BODY) });
});
afterAll(async () => {
  server.stop(true);
  await rm(dir, { recursive: true, force: true });
});

const url = () => `http://127.0.0.1:${server.port}/file`;
const sha256 = () => new Bun.CryptoHasher("sha256");

describe("fetchToFile", () => {
  test("a link planted at the part file's name is not followed; the target gets the bytes", async () => {
    const victim = join(dir, "victim");
    await writeFile(victim, "keep");
    const target = join(dir, "out.bin");
    await symlink(victim, partPath(target));
    const digest = await fetchToFile(url(), target, { cap: 1 << 20, what: "file", hasher: sha256 });
    expect(await readFile(victim, "utf8")).toBe("keep");
    expect((await readFile(target)).equals(Buffer.from(BODY))).toBe(true);
    expect(digest).toBe(sha256().update(BODY).digest("hex"));
    expect((await readdir(dir)).filter((n) => n.endsWith(".part"))).toEqual([]);
  });

  test("past the cap the download stops and leaves nothing", async () => {
    const target = join(dir, "capped.bin");
    const err = await fetchToFile(url(), target, { cap: 1000, what: "file", hasher: sha256 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).kind).toBe("too-large");
    expect((await readdir(dir)).filter((n) => n.startsWith(".capped") || n === "capped.bin")).toEqual([]);
  });

  test("a commit hook that refuses the digest leaves nothing", async () => {
    const target = join(dir, "refused.bin");
    const p = fetchToFile(url(), target, {
      cap: 1 << 20,
      what: "file",
      hasher: sha256,
      commit: async () => {
        throw new Error("checksum mismatch");
      },
    });
    await expect(p).rejects.toThrow("checksum mismatch");
    expect((await readdir(dir)).filter((n) => n.includes("refused"))).toEqual([]);
  });
});
