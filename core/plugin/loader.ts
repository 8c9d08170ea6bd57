// Loading, apart from calling: bytes -> a verified module -> its description, cached by the
// module's SHA-256 (in memory for the process, and in the registry's store across runs). A module
// is described once in a sandbox of its own, checked against what it describes (exports, known
// capabilities, imports only its capabilities allow), and the sandbox is closed: instances are made
// by the catalog's instance factory, never by the loader.
import { DescriptionSchema, parseOutput, toDescription } from "./abi.ts";
import { KNOWN_CAPABILITIES } from "./host/table.ts";
import type { PluginLimits } from "./limits.ts";
import { SandboxCallError, SandboxProcess } from "./sandbox/parent.ts";
import { PluginRuntime, pluginFailure } from "./runtime.ts";
import { undeclaredImport } from "./sandbox/import-capabilities.ts";
import type { PluginDescription } from "./types.ts";

/** Where `describe` answers are kept across runs, by the module's sha256 (the registry's cache). */
export interface DescriptionStore {
  get(sha256: string): Promise<string | undefined>;
  put(sha256: string, describeOutput: string): Promise<void>;
}

/** Descriptions of modules this process verified, by sha256: the same bytes are never described twice. */
const verified = new Map<string, PluginDescription>();

export function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

export class PluginLoader {
  constructor(
    private readonly limits: PluginLimits,
    private readonly store?: DescriptionStore,
  ) {}

  /** The module's description; `label` names it in errors until it has described itself. */
  async describe(label: string, bytes: Uint8Array): Promise<PluginDescription> {
    const hash = sha256(bytes);
    const known = verified.get(hash);
    if (known) return known;
    // An answer kept on disk for these exact bytes: no sandbox is started to describe them again.
    const stored = await this.store?.get(hash).catch(() => undefined);
    if (stored !== undefined) {
      const parsed = parseOutput(DescriptionSchema, "describe", stored);
      if (parsed.ok) {
        const d = toDescription(parsed.value);
        verified.set(hash, d);
        return d;
      }
    }
    const { description, output } = await this.describeInSandbox(label, bytes);
    verified.set(hash, description);
    await this.store?.put(hash, output).catch(() => undefined);
    return description;
  }

  private async describeInSandbox(label: string, bytes: Uint8Array): Promise<{ description: PluginDescription; output: string }> {
    const sandbox = await SandboxProcess.start(label, bytes, this.limits).catch((e: unknown) => {
      throw pluginFailure(label, e instanceof SandboxCallError ? e.detail : e instanceof Error ? e.message : String(e));
    });
    const runtime = new PluginRuntime(label, bytes, this.limits, new Set(), sandbox);
    try {
      const output = await runtime.call("describe", {}, "describe", {}, new AbortController().signal);
      const parsed = parseOutput(DescriptionSchema, "describe", output);
      if (!parsed.ok) throw pluginFailure(label, parsed.message);
      const d = toDescription(parsed.value);
      const needed = d.kind === "provisioner" ? ["prepare", "provision"] : ["configure", "post_process"];
      const missing = needed.filter((f) => !sandbox.exports.includes(f));
      if (missing.length > 0) throw pluginFailure(d.name, `a ${d.kind} must export ${needed.join(" and ")}; the module lacks ${missing.join(" and ")}`);
      const unknown = d.capabilities.filter((c) => !(KNOWN_CAPABILITIES as readonly string[]).includes(c));
      if (unknown.length > 0) throw pluginFailure(d.name, `declares unknown capabilities: ${unknown.join(", ")}`);
      const undeclared = undeclaredImport(sandbox.imports, d.capabilities);
      if (undeclared) throw pluginFailure(d.name, undeclared);
      return { description: d, output };
    } finally {
      await runtime.close();
    }
  }
}
