// `imgb registry vet`: the checks a registry runs on a submitted plugin before signing it into the
// index (run by `imgb registry publish`, usable alone in a registry's CI). Each check reports pass,
// fail or not run, with the reason; the names of the checks that passed go into the vetting record.
//   load           the module is valid WebAssembly, loads in the sandbox and answers `describe` with
//                  the exports its kind needs
//   statement      `describe` says what the signed statement says: name, version, capabilities (as a set)
//   policy         capabilities against the registry's policy: some need a reviewer note (default:
//                  local_exec), some may be refused outright
//   limits         module size and the statement's memory/CPU limits within the registry's maxima
//   reproducible   not run here: rebuilding from the named commit needs the source (`imgb plugin build`)
//   plugin-test    not run here: the plugin's own tests need its source (`imgb plugin test`)
import { describeIssues } from "../errors/valibot-issues.ts";
import { readFile } from "node:fs/promises";
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

export async function vetPlugin(wasm: Uint8Array, statement: PublisherStatement, opts: { policy?: Required<VetPolicy>; note?: string } = {}): Promise<VetReport> {
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
  checks.push({ name: "reproducible", status: "not run", detail: "needs the source at the named commit (imgb plugin build in a clean folder)" });
  checks.push({ name: "plugin-test", status: "not run", detail: "needs the plugin's source (imgb plugin test)" });
  return { checks, ok: checks.every((c) => c.status !== "fail"), passed: checks.filter((c) => c.status === "pass").map((c) => c.name) };
}

export function formatReport(r: VetReport): string[] {
  return r.checks.map((c) => `${c.status === "pass" ? "PASS" : c.status === "fail" ? "FAIL" : "----"} ${c.name}: ${c.detail}`);
}
