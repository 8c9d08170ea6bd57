// The first-party post-processor plugins through the real catalog and sandbox (real wasm built
// from plugins-wasm/, real host functions, real files), checked with system tools.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { expectGone, sandboxChildren } from "../plugin/support.ts";
import { fileArtifact, postProcessorCatalog, runPostProcessor, scratch, tool } from "./support.ts";

let catalog: WasmPluginCatalog;
let dir: string;
let cleanup: () => void;
let files: string[];

beforeAll(async () => {
  catalog = await postProcessorCatalog();
  ({ dir, cleanup } = scratch("plugins"));
  mkdirSync(join(dir, "build"));
  writeFileSync(join(dir, "build", "disk.raw"), Buffer.alloc(5 * 2 ** 20 + 7, "imgb "));
  writeFileSync(join(dir, "build", "meta.json"), '{"a":1}\n');
  files = [join(dir, "build", "disk.raw"), join(dir, "build", "meta.json")];
}, 300_000);

afterAll(async () => {
  await catalog.closeAll();
  cleanup();
  await expectGone(sandboxChildren());
});

const run = (type: string, config: Parameters<typeof runPostProcessor>[2], artifactFiles = files, build = {}) =>
  runPostProcessor(catalog, type, config, fileArtifact(artifactFiles), { outputDir: dir, build });

describe("compress", () => {
  const formats: Array<[string, string[]]> = [
    ["out/a.tar", ["tar", "tf"]],
    ["out/a.tar.gz", ["gzip", "-t"]],
    ["out/a.tgz", ["gzip", "-t"]],
    ["out/a.zip", ["unzip", "-t"]],
    ["out/a.tar.zst", ["zstd", "-t"]],
    ["out/a.tar.xz", ["xz", "-t"]],
    ["out/a.tar.lz4", ["lz4", "-t"]],
  ];
  for (const [output, check] of formats) {
    test(`${output}: archive of every artifact file, checked by ${check[0]}`, async () => {
      const r = await run("compress", { output: join(dir, output) });
      expect(r.error).toBeNull();
      expect(r.result!.artifact.builderId).toBe("packer.post-processor.compress");
      expect(r.result!.artifact.files).toEqual([join(dir, output)]);
      expect(r.result!.artifact.string).toBe(`compressed artifacts in: ${join(dir, output)}`);
      expect(r.result!.keep).toBe(false);
      expect(r.result!.forceOverride).toBe(false);
      expect((await tool([...check, join(dir, output)])).code).toBe(0);
      expect(r.ui.lines).toContain(`say: Archive ${join(dir, output)} completed`);
    });
  }

  test("default output: packer_{{.BuildName}}_{{.BuilderType}}, tar.gz content, name unchanged", async () => {
    // Relative outputs resolve against the working directory, as in Packer (where outputs go by default).
    const saved = process.cwd();
    process.chdir(dir);
    try {
      const r = await run("compress", {});
      expect(r.error).toBeNull();
      expect(r.result!.artifact.files).toEqual(["packer_example_null"]);
      expect((await tool(["tar", "tzf", join(dir, "packer_example_null")])).out.trim().split("\n")).toEqual(["disk.raw", "meta.json"]);
    } finally {
      process.chdir(saved);
    }
  });

  test("a single file with .gz is gzip of that file; several files with .gz is Packer's error", async () => {
    const one = await run("compress", { output: join(dir, "out", "disk.raw.gz"), compression_level: 1 }, [files[0]!]);
    expect(one.error).toBeNull();
    const p = Bun.spawn(["gzip", "-dc", join(dir, "out", "disk.raw.gz")], { stdout: "pipe" });
    expect(Buffer.compare(Buffer.from(await new Response(p.stdout).arrayBuffer()), readFileSync(files[0]!))).toBe(0);
    const two = await run("compress", { output: join(dir, "out", "both.gz") });
    expect(two.error).toContain("Can only have 1 input file when not using tar/zip. Found 2 files");
  });

  test("format overrides the extension; zip entries keep the artifact's paths (without the leading /)", async () => {
    const r = await run("compress", { output: join(dir, "out", "bundle"), format: "zip" });
    expect(r.error).toBeNull();
    const list = await tool(["unzip", "-Z1", join(dir, "out", "bundle")]);
    expect(list.out.trim().split("\n")).toEqual(files.map((f) => f.slice(1)));
  });

  test("compression_level 0 means Packer's default (6); below -1 is an error", async () => {
    expect((await run("compress", { output: join(dir, "out", "l.tar.gz"), compression_level: -2 })).configErrors).toEqual([
      "Invalid compression level. Expected an integer from -1 to 9.",
    ]);
    const r = await run("compress", { output: join(dir, "out", "l.tar.gz"), compression_level: 0 });
    expect(r.ui.lines).toContain(`say: Tarring ${join(dir, "out", "l.tar.gz")} with pgzip`);
  });

  test("{{.BuildName}} and {{.BuilderType}} are rendered in output", async () => {
    const r = await run("compress", { output: join(dir, "out", "{{.BuildName}}-{{.BuilderType}}.tar") }, files, { sourceName: "web" });
    expect(r.result!.artifact.files).toEqual([join(dir, "out", "web-null.tar")]);
    expect(existsSync(join(dir, "out", "web-null.tar"))).toBe(true);
  });

  test("writing outside the output folder is refused before any byte is written", async () => {
    const r = await run("compress", { output: "/var/tmp/imgb-should-not-exist.tar.gz" });
    expect(r.error).toBe('plugin compress: capability artifact_write refused for "/var/tmp/imgb-should-not-exist.tar.gz": outside the output directory');
    expect(existsSync("/var/tmp/imgb-should-not-exist.tar.gz")).toBe(false);
  });
});

describe("checksum", () => {
  test("one line per file and type, <hex>\\t<basename>, equal to the coreutils tools; new files join the artifact", async () => {
    const r = await run("checksum", { checksum_types: ["sha256", "md5"], output: join(dir, "sums", "{{.BuildName}}_{{.ChecksumType}}.checksum") });
    expect(r.error).toBeNull();
    const sha = join(dir, "sums", "example_sha256.checksum");
    const md5 = join(dir, "sums", "example_md5.checksum");
    expect(r.result!.artifact.files).toEqual([...files, sha, md5]);
    expect(r.result!.artifact.string).toBe(`Created artifact from files: ${[...files, sha, md5].join(", ")}`);
    expect(r.result!.keep).toBe(true);
    expect(r.result!.forceOverride).toBe(true);
    for (const [path, toolName] of [[sha, "sha256sum"], [md5, "md5sum"]] as const) {
      const expected = (await tool([toolName, ...files])).out
        .trim()
        .split("\n")
        .map((l) => l.replace(/^([0-9a-f]+)  .*\/([^/]+)$/, "$1\t$2"))
        .join("\n");
      expect(readFileSync(path, "utf8")).toBe(`${expected}\n`);
    }
  });

  test("a second run appends and does not list the existing file again", async () => {
    const out = join(dir, "sums", "again.checksum");
    await run("checksum", { checksum_types: ["sha1"], output: out });
    const r = await run("checksum", { checksum_types: ["sha1"], output: out });
    expect(r.result!.artifact.files).toEqual(files);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(4);
  });

  test("default type md5 and Packer's default output name; unknown types are a config error", async () => {
    const bad = await run("checksum", { checksum_types: ["crc32"] });
    expect(bad.configErrors).toEqual(["Unrecognized checksum type: crc32"]);
    const d = await catalog.describe("post-processor", "checksum");
    expect(d.schema.fields.find((f) => f.name === "output")?.late).toBe(true);
  });
});

describe("manifest", () => {
  const manifest = (name: string) => join(dir, "manifests", name);

  test("Packer's byte layout: strip_time omits build_time, no files is null, custom_data null when unset", async () => {
    const out = manifest("plain.json");
    const r = await run("manifest", { output: out, strip_time: true }, []);
    expect(r.error).toBeNull();
    expect(r.result!.keep).toBe(true);
    expect(r.result!.forceOverride).toBe(true);
    expect(r.result!.artifact.builderId).toBe("packer.file");
    expect(readFileSync(out, "utf8")).toBe(
      '{\n  "builds": [\n    {\n      "name": "example",\n      "builder_type": "null",\n      "files": null,\n      "artifact_id": "Null",\n      "packer_run_uuid": "",\n      "custom_data": null\n    }\n  ],\n  "last_run_uuid": ""\n}',
    );
  });

  test("files with sizes, strip_path, build_time, sorted custom_data with Go escaping", async () => {
    const out = manifest("full.json");
    const before = Math.floor(Date.now() / 1000);
    await run("manifest", { output: out, strip_path: true, custom_data: { zeta: "<z>", alpha: "a&b" } });
    const m = JSON.parse(readFileSync(out, "utf8"));
    const b = m.builds[0];
    expect(b.files).toEqual([
      { name: "disk.raw", size: 5 * 2 ** 20 + 7 },
      { name: "meta.json", size: 8 },
    ]);
    expect(b.build_time).toBeGreaterThanOrEqual(before);
    expect(b.build_time).toBeLessThanOrEqual(before + 60);
    expect(Object.keys(b)).toEqual(["name", "builder_type", "build_time", "files", "artifact_id", "packer_run_uuid", "custom_data"]);
    expect(readFileSync(out, "utf8")).toContain('"custom_data": {\n        "alpha": "a\\u0026b",\n        "zeta": "\\u003cz\\u003e"\n      }');
  });

  test("appends across runs; -force starts over for a new run id and appends within the same run", async () => {
    const out = manifest("runs.json");
    const saved = process.env.PACKER_RUN_UUID;
    try {
      process.env.PACKER_RUN_UUID = "run-1";
      await run("manifest", { output: out, strip_time: true }, [], { sourceName: "a" });
      process.env.PACKER_RUN_UUID = "run-2";
      await run("manifest", { output: out, strip_time: true }, [], { sourceName: "b" });
      let m = JSON.parse(readFileSync(out, "utf8"));
      expect(m.builds.map((b: { name: string }) => b.name)).toEqual(["a", "b"]);
      expect(m.last_run_uuid).toBe("run-2");
      process.env.PACKER_RUN_UUID = "run-3";
      await run("manifest", { output: out, strip_time: true }, [], { sourceName: "c", force: true });
      await run("manifest", { output: out, strip_time: true }, [], { sourceName: "d", force: true });
      m = JSON.parse(readFileSync(out, "utf8"));
      expect(m.builds.map((b: { name: string; packer_run_uuid: string }) => `${b.name}:${b.packer_run_uuid}`)).toEqual(["c:run-3", "d:run-3"]);
    } finally {
      if (saved === undefined) delete process.env.PACKER_RUN_UUID;
      else process.env.PACKER_RUN_UUID = saved;
    }
  });

  test("the corpus's two-run -force case (TestHCL2PostProcessorForceFlag) gives the expected bytes", async () => {
    const expectations = JSON.parse(readFileSync("/work/shared/corpus/packer-fixtures/EXPECTATIONS/command-build.json", "utf8"));
    const steps = expectations.multiStepCases[0].steps as Array<{ env: { PACKER_RUN_UUID: string }; args: string[]; fileContents: Record<string, string> }>;
    const out = manifest("force.json");
    const saved = process.env.PACKER_RUN_UUID;
    try {
      for (const step of steps) {
        // "<uuid-N>" stands for a real run id (Go would escape the angle brackets of the placeholder).
        const uuid = crypto.randomUUID();
        process.env.PACKER_RUN_UUID = uuid;
        const r = await run("manifest", { output: out, strip_time: true }, [], { sourceName: "potato", force: step.args.includes("-force") });
        expect(r.error).toBeNull();
        expect(readFileSync(out, "utf8")).toBe(step.fileContents["manifest.json"]!.replaceAll(step.env.PACKER_RUN_UUID, uuid));
      }
    } finally {
      if (saved === undefined) delete process.env.PACKER_RUN_UUID;
      else process.env.PACKER_RUN_UUID = saved;
    }
  });

  test("parallel builds writing one manifest lose no entry", async () => {
    const out = manifest("parallel.json");
    const n = 6;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => run("manifest", { output: out, strip_time: true }, [], { sourceName: `b${i}` })));
    expect(results.map((r) => r.error)).toEqual(Array(n).fill(null));
    const names = JSON.parse(readFileSync(out, "utf8")).builds.map((b: { name: string }) => b.name).sort();
    expect(names).toEqual(Array.from({ length: n }, (_, i) => `b${i}`).sort());
    expect(existsSync(`${out}.lock`)).toBe(false);
  }, 60_000);
});

describe("artifice", () => {
  test("files (globs) replace the artifact's files; keep true, not forced", async () => {
    mkdirSync(join(dir, "dl"), { recursive: true });
    writeFileSync(join(dir, "dl", "consul"), "bin");
    writeFileSync(join(dir, "dl", "consul.sig"), "sig");
    const r = await run("artifice", { files: [join(dir, "dl", "consul*")] });
    expect(r.error).toBeNull();
    expect(r.result!.artifact.builderId).toBe("packer.post-processor.artifice");
    expect(r.result!.artifact.files).toEqual([join(dir, "dl", "consul"), join(dir, "dl", "consul.sig")]);
    expect(r.result!.keep).toBe(true);
    expect(r.result!.forceOverride).toBe(false);
    expect(r.ui.lines[0]).toBe(`say: Discarding files from artifact: ${files.join(", ")}`);
    expect(r.result!.artifact.string).toBe(`Created artifact from files: ${join(dir, "dl", "consul")}, ${join(dir, "dl", "consul.sig")}`);
  });

  test("no files is a config error; files outside the grants are refused", async () => {
    expect((await run("artifice", {})).configErrors).toEqual(["No files specified in artifice configuration"]);
    const r = await run("artifice", { files: ["/etc/hostname"] });
    expect(r.error).toContain('capability artifact_read refused for "/etc/hostname"');
  });
});

describe("shell-local post-processor", () => {
  test("runs the script with Packer's variables and passes the artifact through, always kept", async () => {
    const marker = join(dir, "ran.txt");
    const r = await run("shell-local", { inline: [`echo "$PACKER_BUILD_NAME $PACKER_BUILDER_TYPE" > ${marker}`, "echo done"] });
    expect(r.error).toBeNull();
    expect(readFileSync(marker, "utf8")).toBe("example null\n");
    expect(r.result!.artifact.files).toEqual(files);
    expect(r.result!.artifact.builderId).toBe("packer.file");
    expect(r.result!.keep).toBe(true);
    expect(r.result!.forceOverride).toBe(true);
    expect(r.ui.lines).toContain("message: done");
  });

  test("a failing script fails the post-processor with Packer's message", async () => {
    const r = await run("shell-local", { inline: ["exit 3"] });
    expect(r.error).toBe("plugin shell-local: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]");
  });

  test("needs one of command, inline, script, scripts", async () => {
    expect((await run("shell-local", {})).configErrors.length).toBeGreaterThan(0);
  });
});

describe("grants", () => {
  test("reading a file outside the artifact is refused with a clear error", async () => {
    const r = await run("stream-probe", { hash: ["/etc/passwd"] });
    expect(r.error).toBe('plugin stream-probe: capability artifact_read refused for "/etc/passwd": outside the input artifact\'s files and the output directory');
  });

  test("globbing outside the grants is refused; the artifact's own files are readable", async () => {
    expect((await run("stream-probe", { stat: ["/etc/*"] })).error).toBe(
      'plugin stream-probe: capability artifact_read refused for "/etc/*": outside the input artifact\'s files and the output directory',
    );
    // A pattern that reaches out through a symlinked folder is refused by the pattern, naming no file found.
    require("node:fs").symlinkSync("/etc", join(dir, "etc-link"));
    const r = await run("stream-probe", { stat: [join(dir, "etc-link", "*")] });
    expect(r.error).toContain(`refused for "${join(dir, "etc-link", "*")}": it matches files outside`);
    expect((await run("stream-probe", { hash: files })).error).toBeNull();
  });

  test("a symlink in the output folder pointing outside is refused", async () => {
    const link = join(dir, "sneaky-link");
    require("node:fs").symlinkSync("/etc/passwd", link);
    const r = await run("stream-probe", { hash: [link] });
    expect(r.error).toContain(`capability artifact_read refused for "${link}"`);
  });

  test("a post-processor whose grants lack artifact_write cannot write", async () => {
    const probe = join(import.meta.dir, "..", ".tmp", "plugins", "stream-probe.wasm");
    const { createPluginCatalog } = await import("../../core/plugin/catalog.ts");
    const readOnly = createPluginCatalog({ embedded: false });
    await readOnly.registerInstalledPlugin(probe, ["artifact_read"]);
    try {
      const r = await runPostProcessor(readOnly, "stream-probe", { compress_to: join(dir, "x.tar.gz") }, fileArtifact(files), { outputDir: dir });
      expect(r.error).toBe("plugin stream-probe: capability artifact_write refused: not granted to this plugin (compress_files)");
    } finally {
      await readOnly.closeAll();
    }
  });
});
