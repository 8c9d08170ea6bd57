// The host streaming primitives (core/plugin/streams) on real files, checked with the system tools.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compressFiles, CompressError, type ArchiveKind, type Compression } from "../../core/plugin/streams/compress.ts";
import { hashFile, HASH_TYPES } from "../../core/plugin/streams/hash.ts";
import { appendFile, readSmallFile, swapSmallFile } from "../../core/plugin/streams/output-files.ts";
import { scratch, tool } from "./support.ts";

let dir: string;
let cleanup: () => void;
let inputs: string[];

beforeAll(() => {
  ({ dir, cleanup } = scratch("streams"));
  // 9 MiB of compressible but varied data: more than two 4 MiB blocks, so the parallel path runs.
  const big = new Uint8Array(9 * 2 ** 20 + 12345);
  let x = 12345;
  for (let i = 0; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    big[i] = (x >>> 24) % 16 === 0 ? x & 0xff : 0x41 + (i % 23);
  }
  mkdirSync(join(dir, "in"));
  writeFileSync(join(dir, "in", "disk.img"), big);
  writeFileSync(join(dir, "in", "notes.txt"), "hello\n");
  writeFileSync(join(dir, "in", "empty"), "");
  inputs = ["disk.img", "notes.txt", "empty"].map((f) => join(dir, "in", f));
});

afterAll(() => cleanup());

async function extractAndCompare(archive: string, argv: string[], sub = ""): Promise<void> {
  const top = join(dir, `x-${Math.random().toString(36).slice(2)}`);
  mkdirSync(top);
  const r = await tool([...argv, archive], top);
  expect(r.code).toBe(0);
  const out = join(top, sub);
  expect(readdirSync(out).sort()).toEqual(["disk.img", "empty", "notes.txt"]);
  for (const f of inputs) expect(Buffer.compare(readFileSync(join(out, f.split("/").pop()!)), readFileSync(f))).toBe(0);
}

describe("compress_files", () => {
  const cases: Array<[string, ArchiveKind, Compression, string[], string[]]> = [
    ["a.tar", "tar", "none", ["tar", "tf"], ["tar", "xf"]],
    ["a.tar.gz", "tar", "gzip", ["gzip", "-t"], ["tar", "xzf"]],
    ["a.tar.zst", "tar", "zstd", ["zstd", "-t"], ["tar", "--zstd", "-xf"]],
    ["a.tar.xz", "tar", "xz", ["xz", "-t"], ["tar", "xJf"]],
    ["a.tar.lz4", "tar", "lz4", ["lz4", "-t"], ["tar", "-I", "lz4", "-xf"]],
    ["a.zip", "zip", "none", ["unzip", "-t"], ["unzip", "-q"]],
  ];
  for (const [name, archive, compression, check, extract] of cases) {
    test(`${name}: valid for the system tool and round-trips`, async () => {
      const output = join(dir, "out", name);
      // zip entries keep the path as the plugin named it (Packer); tar entries are basenames.
      const entryNames = inputs.map((f) => `../in/${f.split("/").pop()}`);
      const r = await compressFiles({ inputs, entryNames, output, archive, compression, level: 6 });
      expect(r.inputBytes).toBe(inputs.reduce((n, f) => n + readFileSync(f).length, 0));
      expect(r.outputBytes).toBe(readFileSync(output).length);
      const c = await tool([...check, output]);
      expect(c.code).toBe(0);
      await extractAndCompare(output, extract, archive === "zip" ? "in" : "");
      expect(readdirSync(join(dir, "out")).filter((f) => f.includes("imgb-partial"))).toEqual([]);
    }, 30_000); // xz at level 6 over 9 MiB takes seconds on a slow, shared CPU
  }

  test("single-file gzip and zstd are the file itself, compressed in several independent blocks", async () => {
    for (const [ext, compression, argv] of [["gz", "gzip", ["gzip", "-dc"]], ["zst", "zstd", ["zstd", "-dc"]]] as const) {
      const output = join(dir, "out", `disk.img.${ext}`);
      await compressFiles({ inputs: [inputs[0]!], output, archive: "none", compression, level: 9 });
      const p = Bun.spawn([...argv, output], { stdout: "pipe" });
      const plain = new Uint8Array(await new Response(p.stdout).arrayBuffer());
      expect(await p.exited).toBe(0);
      expect(Buffer.compare(plain, readFileSync(inputs[0]!))).toBe(0);
    }
    // gzip -l reports the CRC and size trailer of the single member.
    expect((await tool(["gzip", "-lv", join(dir, "out", "disk.img.gz")])).out).toContain(String(readFileSync(inputs[0]!).length));
  });

  test("level 1 output is larger than level 9 output", async () => {
    const a = await compressFiles({ inputs: [inputs[0]!], output: join(dir, "out", "l1.gz"), archive: "none", compression: "gzip", level: 1 });
    const b = await compressFiles({ inputs: [inputs[0]!], output: join(dir, "out", "l9.gz"), archive: "none", compression: "gzip", level: 9 });
    expect(a.outputBytes).toBeGreaterThan(b.outputBytes);
  });

  test("several files without an archive is Packer's error", async () => {
    const err = await compressFiles({ inputs, output: join(dir, "out", "x.gz"), archive: "none", compression: "gzip", level: 6 }).catch((e) => e);
    expect(err).toBeInstanceOf(CompressError);
    expect((err as Error).message).toStartWith("Can only have 1 input file when not using tar/zip. Found 3 files: [");
    expect(existsSync(join(dir, "out", "x.gz"))).toBe(false);
  });

  test("two inputs with the same name are refused, not silently overwritten in the archive", async () => {
    mkdirSync(join(dir, "other"), { recursive: true });
    writeFileSync(join(dir, "other", "notes.txt"), "other\n");
    const err = await compressFiles({ inputs: [inputs[1]!, join(dir, "other", "notes.txt")], output: join(dir, "out", "dup.tar"), archive: "tar", compression: "none", level: 6 }).catch((e) => e);
    expect((err as Error).message).toContain("would have the same name notes.txt");
  });

  test("names longer than ustar's 100 bytes survive (PAX header)", async () => {
    const long = join(dir, "in", `${"n".repeat(140)}.raw`);
    writeFileSync(long, "x");
    const output = join(dir, "out", "long.tar.gz");
    await compressFiles({ inputs: [long], output, archive: "tar", compression: "gzip", level: 6 });
    expect((await tool(["tar", "tzf", output])).out.trim()).toBe(`${"n".repeat(140)}.raw`);
  });

  test("an aborted run leaves neither the output nor a partial file", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stopped"));
    const output = join(dir, "out", "aborted.tar.gz");
    await expect(compressFiles({ inputs, output, archive: "tar", compression: "gzip", level: 6, signal: ac.signal })).rejects.toThrow("stopped");
    expect(readdirSync(join(dir, "out")).filter((f) => f.startsWith("aborted"))).toEqual([]);
  });
});

describe("cancellation", () => {
  for (const compression of ["gzip", "xz"] as const) {
    test(`aborting ${compression} midway stops the work and removes the partial output`, async () => {
      const ac = new AbortController();
      const output = join(dir, "out", `midway.tar.${compression}`);
      const err = await compressFiles({
        inputs,
        output,
        archive: "tar",
        compression,
        level: 6,
        signal: ac.signal,
        onProgress: (done) => {
          if (done > 0) ac.abort(new Error("build cancelled"));
        },
      }).catch((e: Error) => e);
      expect((err as Error).message).toBe("build cancelled");
      await Bun.sleep(50);
      expect(readdirSync(join(dir, "out")).filter((f) => f.startsWith("midway"))).toEqual([]);
    });
  }
});

describe("hash_files", () => {
  test("every checksum type in one pass equals the coreutils tool", async () => {
    const r = await hashFile(inputs[0]!, HASH_TYPES);
    expect(r.size).toBe(readFileSync(inputs[0]!).length);
    for (const t of HASH_TYPES) {
      const out = (await tool([`${t}sum`, inputs[0]!])).out;
      expect(r.digests[t]).toBe(out.split(" ")[0]!);
    }
  });

  test("an empty file hashes like the tool", async () => {
    const r = await hashFile(inputs[2]!, ["sha256"]);
    expect(r.digests.sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("shared output files", () => {
  test("compare-and-swap: concurrent read-modify-write loops lose no update", async () => {
    const path = join(dir, "shared", "list.json");
    const writer = async (n: number) => {
      for (;;) {
        const cur = await readSmallFile(path, 1 << 20);
        const list = cur.exists ? (JSON.parse(Buffer.from(cur.data).toString()) as number[]) : [];
        list.push(n);
        await Bun.sleep(Math.random() * 3); // widen the race window
        const r = await swapSmallFile(path, cur.sha256, Buffer.from(JSON.stringify(list)), 0o644);
        if (r.swapped) return;
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, i) => writer(i)));
    const final = JSON.parse(readFileSync(path, "utf8")) as number[];
    expect(final.sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  test("compare-and-swap across processes: 4 writers x 10 entries, none lost", async () => {
    const path = join(dir, "shared", "procs.json");
    const writer = join(import.meta.dir, "fixtures", "swap-writer.ts");
    const procs = ["a", "b", "c", "d"].map((tag) => Bun.spawn([process.execPath, writer, path, tag, "10"], { stderr: "pipe" }));
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0]);
    const final = JSON.parse(readFileSync(path, "utf8")) as string[];
    expect(final).toHaveLength(40);
    expect(new Set(final).size).toBe(40);
  }, 30_000);

  test("a lock left by a dead writer is broken after it goes stale", async () => {
    const path = join(dir, "shared", "stale.txt");
    mkdirSync(join(dir, "shared"), { recursive: true });
    writeFileSync(`${path}.lock`, "12345");
    const old = new Date(Date.now() - 60_000);
    require("node:fs").utimesSync(`${path}.lock`, old, old);
    expect((await swapSmallFile(path, null, Buffer.from("x"), 0o644)).swapped).toBe(true);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  test("a swap against stale content is refused and reports the current hash", async () => {
    const path = join(dir, "shared", "one.txt");
    expect((await swapSmallFile(path, null, Buffer.from("a"), 0o644)).swapped).toBe(true);
    const r = await swapSmallFile(path, null, Buffer.from("b"), 0o644);
    expect(r.swapped).toBe(false);
    expect(r.sha256).toBe((await readSmallFile(path, 100)).sha256);
    expect(readFileSync(path, "utf8")).toBe("a");
  });

  test("append creates the folder and says whether it created the file", async () => {
    const path = join(dir, "deep", "er", "sums.txt");
    expect((await appendFile(path, Buffer.from("1\n"), 0o644)).created).toBe(true);
    expect((await appendFile(path, Buffer.from("2\n"), 0o644)).created).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("1\n2\n");
  });
});

describe("edge cases", () => {
  test("an artifact without files gives an empty but valid archive (as Packer)", async () => {
    const output = join(dir, "out", "empty.tar.gz");
    const r = await compressFiles({ inputs: [], output, archive: "tar", compression: "gzip", level: 6 });
    expect(r.inputBytes).toBe(0);
    expect((await tool(["gzip", "-t", output])).code).toBe(0);
    expect((await tool(["tar", "tzf", output])).out.trim()).toBe("");
    const zip = join(dir, "out", "empty.zip");
    await compressFiles({ inputs: [], output: zip, archive: "zip", compression: "none", level: 6 });
    // unzip exits 1 on an empty archive ("zipfile is empty"); Python's zipfile reads it.
    const py = await tool(["python3", "-c", "import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))", zip]);
    expect(py.out.trim()).toBe("0");
  });

  test("gzip level 0 stores the data (valid gzip, larger than the input)", async () => {
    const output = join(dir, "out", "stored.gz");
    const r = await compressFiles({ inputs: [inputs[1]!], output, archive: "none", compression: "gzip", level: 0 });
    expect(r.outputBytes).toBeGreaterThan(r.inputBytes);
    expect((await tool(["gzip", "-t", output])).code).toBe(0);
  });
});
