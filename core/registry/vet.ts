// `imgb registry vet`: the checks a registry runs on a submitted plugin before signing it into the
// index (run by `imgb registry publish`, usable alone in a registry's CI). Each check reports pass,
// fail or not run, with the reason; the names of the checks that passed go into the vetting record.
//   load           the module is valid WebAssembly, loads in the sandbox and answers `describe` with
//                  the exports its kind needs
//   statement      `describe` says what the signed statement says: name, version, capabilities (as a set)
//   policy         capabilities against the registry's policy: some need a reviewer note (default:
//                  local_exec), some may be refused outright
//   limits         module size and the statement's memory/CPU limits within the registry's maxima
//   reproducible   with the source (--source DIR, a git checkout or a plugin folder): a clean copy of it
//                  (`git archive` of the declared commit, else the folder without dist/ and
//                  node_modules/) is built with `imgb plugin build`; its sha256 must be the module's
//   plugin-test    with the source: the plugin's own `imgb plugin test` (test/configs.json) runs the
//                  submitted module (not the rebuilt one) in the sandbox from that clean copy
// Without the source both are "not run", and the record says so by leaving them out.
import { describeIssues } from "../errors/valibot-issues.ts";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { run } from "../process/child.ts";
import * as v from "valibot";
import { RegistryError } from "./errors.ts";
import type { PublisherStatement } from "./schema.ts";

const PolicySchema = v.strictObject({
  /** Capabilities that need a reviewer note (--note). */
  noteRequired: v.optional(v.array(v.string())),
  /** Capabilities this registry never signs. */
  refused: v.optional(v.array(v.string())),
  maxModuleBytes: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
  maxMemoryMiB: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
  maxCpuMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
});
export type VetPolicy = v.InferOutput<typeof PolicySchema>;

export const DEFAULT_POLICY: Required<VetPolicy> = {
  noteRequired: ["local_exec"],
  refused: [],
  maxModuleBytes: 32 * 1024 * 1024,
  maxMemoryMiB: 512,
  maxCpuMs: 10 * 60 * 1000,
};

export async function readPolicy(path: string | undefined): Promise<Required<VetPolicy>> {
  if (path === undefined) return DEFAULT_POLICY;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new RegistryError("usage", `cannot read policy ${path}: ${(e as Error).message}`);
  }
  const r = v.safeParse(PolicySchema, json);
  if (!r.success) throw new RegistryError("usage", `policy ${path}: ${describeIssues(r.issues, 1)}`);
  return { ...DEFAULT_POLICY, ...r.output };
}

export interface VetCheck {
  name: "load" | "statement" | "policy" | "limits" | "reproducible" | "plugin-test";
  status: "pass" | "fail" | "not run";
  detail: string;
}

export interface VetReport {
  checks: VetCheck[];
  ok: boolean;
  /** Names of the checks that passed, for the vetting record. */
  passed: string[];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((c) => y.has(c));
}

/** The plugin's source: a folder, optionally a git checkout and the commit the module was built from. */
export interface VetSource {
  dir: string;
  /** With a git checkout: the commit to rebuild (default HEAD). */
  commit?: string;
}

/** A clean copy of the source in a new temp folder: what the declared commit holds, nothing built. */
async function cleanCopy(src: VetSource, into: string): Promise<string> {
  const dir = resolve(src.dir);
  if (!existsSync(dir)) throw new Error(`source folder ${src.dir} does not exist`);
  const out = join(into, basename(dir) || "source");
  const git = await run(["git", "-C", dir, "rev-parse", "--show-toplevel", "--show-prefix"], { captureStdout: true }).then(
    (r) => new TextDecoder().decode(r.stdout).split("\n"),
    () => undefined,
  );
  if (git !== undefined) {
    // The commit's tree below this folder (the plugin may live in a subfolder of its repository).
    const [top = dir, prefix = ""] = git;
    const tar = join(into, "source.tar");
    const commit = src.commit ?? "HEAD";
    await run(["git", "-C", top, "archive", "--format=tar", "-o", tar, `${commit}:${prefix}`]).catch((e: unknown) => {
      throw new Error(`git archive of ${commit} in ${src.dir} failed: ${(e as Error).message}`);
    });
    await run(["mkdir", "-p", out]);
    await run(["tar", "-xf", tar, "-C", out]);
    await rm(tar, { force: true });
    return out;
  }
  if (src.commit !== undefined) throw new Error(`${src.dir} is not a git checkout: the commit ${src.commit} cannot be rebuilt from it`);
  await cp(dir, out, { recursive: true, filter: (p) => !/[/\\](dist|node_modules|\.git)$/.test(p) });
  return out;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** reproducible and plugin-test, from a clean copy of the source. */
async function sourceChecks(wasm: Uint8Array, src: VetSource): Promise<VetCheck[]> {
  const tmp = await mkdtemp(join(tmpdir(), "imgb-vet-"));
  try {
    let clean: string;
    try {
      clean = await cleanCopy(src, tmp);
    } catch (e) {
      const detail = (e as Error).message;
      return [
        { name: "reproducible", status: "fail", detail },
        { name: "plugin-test", status: "not run", detail: "no clean copy of the source" },
      ];
    }
    const checks: VetCheck[] = [];
    const { buildPluginProject } = await import("../plugin/toolchain/project.ts");
    const from = src.commit !== undefined ? `commit ${src.commit} of ${src.dir}` : src.dir;
    try {
      const built = await buildPluginProject(clean, { out: join(tmp, "rebuilt.wasm"), check: false });
      const rebuilt = sha256(new Uint8Array(await readFile(built.wasm)));
      const submitted = sha256(wasm);
      checks.push(
        rebuilt === submitted
          ? { name: "reproducible", status: "pass", detail: `imgb plugin build of ${from} in a clean folder gives the same sha256 ${submitted}` }
          : { name: "reproducible", status: "fail", detail: `imgb plugin build of ${from} in a clean folder gives sha256 ${rebuilt}, the module is ${submitted}` },
      );
    } catch (e) {
      checks.push({ name: "reproducible", status: "fail", detail: `imgb plugin build of ${from} failed: ${(e as Error).message}` });
    }
    const { testPluginProject } = await import("../plugin/toolchain/test-run.ts");
    const submittedPath = join(tmp, "submitted.wasm");
    await writeFile(submittedPath, wasm);
    const lines: string[] = [];
    try {
      const failed = await testPluginProject(clean, (l) => lines.push(l), { wasm: submittedPath });
      const failing = lines.filter((l) => /FAIL/.test(l)).slice(0, 3).map((l) => l.trim());
      checks.push(
        failed === 0
          ? { name: "plugin-test", status: "pass", detail: `the plugin's own tests (imgb plugin test) pass with this module in the sandbox` }
          : { name: "plugin-test", status: "fail", detail: `${failed} check(s) of imgb plugin test failed${failing.length > 0 ? `: ${failing.join("; ")}` : ""}` },
      );
    } catch (e) {
      checks.push({ name: "plugin-test", status: "fail", detail: `imgb plugin test: ${(e as Error).message}` });
    }
    return checks;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function vetPlugin(
  wasm: Uint8Array,
  statement: PublisherStatement,
  opts: { policy?: Required<VetPolicy>; note?: string; source?: VetSource } = {},
): Promise<VetReport> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const checks: VetCheck[] = [];
  let described: { kind: string; name: string; version: string; capabilities: string[] } | undefined;
  if (!WebAssembly.validate(wasm)) checks.push({ name: "load", status: "fail", detail: "not a valid WebAssembly module" });
  else {
    const { createPluginCatalog } = await import("../plugin/catalog.ts");
    const catalog = createPluginCatalog({ embedded: false });
    try {
      described = await catalog.registerWasm(wasm, [], "installed", statement.name);
      checks.push({ name: "load", status: "pass", detail: `${described.kind} ${described.name} ${described.version} loads and describes itself in the sandbox` });
    } catch (e) {
      checks.push({ name: "load", status: "fail", detail: (e as Error).message });
    } finally {
      await catalog.closeAll();
    }
  }
  if (!described) checks.push({ name: "statement", status: "not run", detail: "the module did not describe itself" });
  else {
    const diffs: string[] = [];
    if (described.name !== statement.name) diffs.push(`name: module says ${described.name}, statement ${statement.name}`);
    if (described.version !== statement.version) diffs.push(`version: module says ${described.version}, statement ${statement.version}`);
    if (!sameSet(described.capabilities, statement.capabilities)) {
      diffs.push(`capabilities: module declares ${described.capabilities.join(", ") || "none"}, statement ${statement.capabilities.join(", ") || "none"}`);
    }
    checks.push(diffs.length === 0 ? { name: "statement", status: "pass", detail: `name, version and capabilities match (${described.kind})` } : { name: "statement", status: "fail", detail: diffs.join("; ") });
  }
  const refused = statement.capabilities.filter((c) => policy.refused.includes(c));
  const needNote = statement.capabilities.filter((c) => policy.noteRequired.includes(c));
  if (refused.length > 0) checks.push({ name: "policy", status: "fail", detail: `this registry does not sign ${refused.join(", ")}` });
  else if (needNote.length > 0 && !(opts.note ?? "").trim()) checks.push({ name: "policy", status: "fail", detail: `${needNote.join(", ")} needs a reviewer note (--note "why this plugin needs it")` });
  else checks.push({ name: "policy", status: "pass", detail: needNote.length > 0 ? `${needNote.join(", ")} allowed with the reviewer's note` : "no capability needs a note" });
  const over: string[] = [];
  if (wasm.byteLength > policy.maxModuleBytes) over.push(`module ${wasm.byteLength} bytes > ${policy.maxModuleBytes}`);
  if (statement.limits.memoryMiB > policy.maxMemoryMiB) over.push(`memory ${statement.limits.memoryMiB} MiB > ${policy.maxMemoryMiB}`);
  if (statement.limits.cpuMs > policy.maxCpuMs) over.push(`CPU ${statement.limits.cpuMs} ms > ${policy.maxCpuMs}`);
  checks.push(over.length === 0 ? { name: "limits", status: "pass", detail: `${wasm.byteLength} bytes, ${statement.limits.memoryMiB} MiB, ${statement.limits.cpuMs} ms per call` } : { name: "limits", status: "fail", detail: over.join("; ") });
  if (opts.source) checks.push(...(await sourceChecks(wasm, opts.source)));
  else {
    checks.push({ name: "reproducible", status: "not run", detail: "needs the source at the named commit (--source DIR: imgb plugin build in a clean folder)" });
    checks.push({ name: "plugin-test", status: "not run", detail: "needs the plugin's source (--source DIR: imgb plugin test)" });
  }
  return { checks, ok: checks.every((c) => c.status !== "fail"), passed: checks.filter((c) => c.status === "pass").map((c) => c.name) };
}

export function formatReport(r: VetReport): string[] {
  return r.checks.map((c) => `${c.status === "pass" ? "PASS" : c.status === "fail" ? "FAIL" : "----"} ${c.name}: ${c.detail}`);
}
