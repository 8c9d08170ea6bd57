// `imgb build` of a one-provisioner template with 0, 2 and 20 plugins installed for the user: the
// installed plugins the template does not use must cost (almost) nothing. Each plugin is the motd
// test plugin (tests/registry/fixtures/motd) renamed in its data segment to acme/m001 ... acme/m020 and
// installed with `imgb plugins install --allow-unsigned`, so each is a distinct module that describes
// itself under its own name. One HOME per case; the first build describes the modules once (the
// answers are cached on disk by sha256), hyperfine's warm-up run absorbs that.
// Usage: bun run bench/registry/installed-plugins.ts   (needs dist/imgb and hyperfine; IMGB_BIN=other/imgb
// runs the same cases with another binary, e.g. an older build, into bench/out/installed-plugins-other.json)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compilePlugin } from "../../plugins-wasm/build.ts";

const ROOT = resolve(import.meta.dir, "../..");
const IMGB = process.env.IMGB_BIN ?? join(ROOT, "dist", "imgb");
const OUT = join(ROOT, "bench", "out");
const work = join(tmpdir(), `imgb-bench-plugins-${process.pid}`);
mkdirSync(work, { recursive: true });
mkdirSync(OUT, { recursive: true });

const wasmPath = join(work, "motd.wasm");
await compilePlugin(join(ROOT, "tests/registry/fixtures/motd/assembly/plugin.ts"), wasmPath);
const wasm = readFileSync(wasmPath);

function utf16(s: string): Buffer {
  return Buffer.from(s, "utf16le");
}
function renamed(n: number): Buffer {
  const from = utf16("acme/motd");
  const to = utf16(`acme/m${String(n).padStart(3, "0")}`);
  const out = Buffer.from(wasm);
  const at = out.indexOf(from);
  if (at < 0) throw new Error("plugin name not found in the data segment");
  to.copy(out, at);
  return out;
}

const template = join(work, "t.pkr.hcl");
writeFileSync(template, `source "null" "x" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x"]\n  provisioner "shell-local" {\n    inline = ["true"]\n  }\n}\n`);

const commands: string[] = [];
for (const count of [0, 2, 20]) {
  const home = join(work, `home-${count}`);
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: "", XDG_STATE_HOME: "", XDG_CACHE_HOME: "", IMGB_REGISTRY_URL: "" };
  for (let i = 1; i <= count; i++) {
    const file = join(work, `m${i}.wasm`);
    writeFileSync(file, renamed(i));
    const r = Bun.spawnSync([IMGB, "plugins", "install", file, "--allow-unsigned", "--accept-capabilities", "--name", `acme/m${String(i).padStart(3, "0")}`, "--version", "1.0.0"], { env });
    if (r.exitCode !== 0) throw new Error(`install ${i}: ${r.stderr.toString()}`);
  }
  commands.push("-n", `${count} installed`, `env HOME=${home} XDG_CONFIG_HOME= XDG_STATE_HOME= XDG_CACHE_HOME= ${IMGB} build -color=false ${template}`);
}
const hf = Bun.spawnSync(["hyperfine", "-N", "--warmup", "2", "--runs", "15", "--export-json", join(OUT, process.env.IMGB_BIN ? "installed-plugins-other.json" : "installed-plugins.json"), ...commands], { stdout: "inherit", stderr: "inherit", cwd: work });
rmSync(work, { recursive: true, force: true });
process.exit(hf.exitCode ?? 1);
