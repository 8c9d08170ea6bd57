// Builds the hostile suite's C plugins (tests/plugin/hostile/c/*.c) with Debian's clang + lld, no libc,
// and its Rust ones (tests/plugin/hostile/rust/*.rs) with Debian's rustc (wasm32-unknown-unknown, std,
// no crates), as docs/plugin-abi.md §15 builds its examples; cached under the test cache folder by a
// hash of the source and the flags, so a fresh clone (CI) builds each once.
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../../../support/images.ts";

const FLAGS = ["--target=wasm32", "-O2", "-mreference-types", "-nostdlib", "-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--growable-table"];

function cached(src: string, argv: string[], tag: string): Uint8Array {
  const hash = new Bun.CryptoHasher("sha256").update(argv.join(" ")).update(readFileSync(src)).digest("hex").slice(0, 16);
  const dir = join(cacheDir(), "plugins");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${tag}-${hash}.wasm`);
  if (!existsSync(out)) {
    const p = Bun.spawnSync([...argv, "-o", `${out}.${process.pid}`, src], { stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`${argv[0]} failed on ${src}:\n${p.stderr.toString()}`);
    renameSync(`${out}.${process.pid}`, out);
  }
  return new Uint8Array(readFileSync(out));
}

export function hostileC(name: string): Uint8Array {
  return cached(join(import.meta.dir, `${name}.c`), ["/usr/bin/clang", ...FLAGS], `c-${name}`);
}

/** A Rust plugin of tests/plugin/hostile/rust/, built with `--cfg` each of `cfgs`. */
export function hostileRust(name: string, cfgs: string[] = []): Uint8Array {
  const argv = ["/usr/bin/rustc", "--target", "wasm32-unknown-unknown", "--crate-type", "cdylib", "-C", "opt-level=2", "-C", "strip=debuginfo", ...cfgs.flatMap((c) => ["--cfg", c])];
  return cached(join(import.meta.dir, "..", "rust", `${name}.rs`), argv, `rust-${name}-${cfgs.join("-") || "plain"}`);
}
