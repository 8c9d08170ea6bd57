// Builds the hostile suite's C plugins (tests/plugin/hostile/c/*.c) with Debian's clang + lld, no libc,
// as docs/plugin-abi.md §15 builds its example; cached under the test cache folder by a hash of the
// source and the flags, so a fresh clone (CI) builds each once.
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../../../support/images.ts";

const FLAGS = ["--target=wasm32", "-O2", "-mreference-types", "-nostdlib", "-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--growable-table"];

export function hostileC(name: string): Uint8Array {
  const src = join(import.meta.dir, `${name}.c`);
  const hash = new Bun.CryptoHasher("sha256").update(FLAGS.join(" ")).update(readFileSync(src)).digest("hex").slice(0, 16);
  const dir = join(cacheDir(), "plugins");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `c-${name}-${hash}.wasm`);
  if (!existsSync(out)) {
    const p = Bun.spawnSync(["/usr/bin/clang", ...FLAGS, "-o", `${out}.${process.pid}`, src], { stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`clang failed on ${src}:\n${p.stderr.toString()}`);
    renameSync(`${out}.${process.pid}`, out);
  }
  return new Uint8Array(readFileSync(out));
}
