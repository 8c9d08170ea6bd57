// The ABI document's worked examples in C (Debian's clang + lld, no libc) and Rust (Debian's rustc
// with the wasm32-unknown-unknown standard library, no crates): built from examples/plugin-abi/
// (cached by source hash under the test cache folder) and run through the real sandbox.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createPluginCatalog } from "../../core/plugin/catalog.ts";
import { localCommunicator } from "../../core/communicator/local.ts";
import { cacheDir } from "../support/images.ts";
import { RecordingUi, buildValues, expectGone, sandboxChildren } from "./support.ts";

const EXAMPLES = join(import.meta.dir, "..", "..", "examples", "plugin-abi");
const catalog = createPluginCatalog({ embedded: false });
afterAll(async () => {
  await catalog.closeAll();
  await expectGone(sandboxChildren());
});

/** Builds `source` with `argv(out)` unless a module of the same source is cached. */
async function built(source: string, tool: string, argv: (out: string) => string[]): Promise<Uint8Array> {
  const hash = new Bun.CryptoHasher("sha256").update(tool).update(readFileSync(source)).digest("hex").slice(0, 16);
  const dir = join(cacheDir(), "plugin-abi-examples");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${hash}.wasm`);
  if (!existsSync(out)) {
    const p = Bun.spawnSync(argv(`${out}.part`), { stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`${tool} failed:\n${p.stderr.toString()}`);
    Bun.spawnSync(["mv", `${out}.part`, out]);
  }
  return new Uint8Array(readFileSync(out));
}

const cases = [
  {
    name: "acme/motd-c",
    lang: "C",
    build: () => {
      const src = join(EXAMPLES, "c", "motd.c");
      return built(src, "clang", (out) => ["/usr/bin/clang", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-Wl,--export-dynamic", "-o", out, src]);
    },
  },
  {
    name: "acme/motd-rs",
    lang: "Rust",
    build: () => {
      const src = join(EXAMPLES, "rust", "motd.rs");
      return built(src, "rustc", (out) => ["/usr/bin/rustc", "--target", "wasm32-unknown-unknown", "--crate-type", "cdylib", "-C", "opt-level=2", "-C", "strip=debuginfo", "-o", out, src]);
    },
  },
];

describe("ABI examples", () => {
  for (const c of cases) {
    test(`${c.lang}: ${c.name} loads, prepares and provisions`, async () => {
      const wasm = await c.build();
      const d = await catalog.registerWasm(wasm, ["communicator"], "installed", `${c.name}.wasm`);
      expect(d).toMatchObject({ kind: "provisioner", name: c.name, capabilities: ["communicator"] });
      const p = await catalog.provisioner(c.name);
      expect((await p.prepare([{ message: "" }])).diagnostics.map((x) => x.summary)).toEqual(["message must not be empty"]);
      expect((await p.prepare([{ message: "hello from " + c.lang }])).diagnostics).toEqual([]);
      const ui = new RecordingUi();
      await p.provision({ ui, communicator: localCommunicator(), build: buildValues(), templateDir: EXAMPLES, signal: new AbortController().signal });
      expect(ui.lines).toEqual([`say: hello from ${c.lang}`, `message: motd written by ${c.lang === "C" ? "C" : "Rust"}`]);
      await p.close();
    }, 120_000);
  }
});
