// Shared by the provisioner tests: the real plugin catalog (wasm built from plugins-wasm/), a real
// OpenSSH server with a real SSH communicator, and a helper that runs a provisioner the way the
// engine does (prepare with the configs, then provision with a context) and reports what it said.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll } from "../../plugins-wasm/build.ts";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { connectSsh, parseSshConfig, type SshCommunicator } from "../../core/communicator/ssh/index.ts";
import type { Communicator } from "../../core/communicator/types.ts";
import type { Diagnostic } from "../../core/errors/diagnostic.ts";
import type { Provisioner } from "../../core/plugin/types.ts";
import type { JsonObject } from "../../core/values/json.ts";
import type { Ui } from "../../core/ui/types.ts";
import { startSshd, stopAllSshd, type Sshd } from "../support/sshd.ts";
import { RecordingUi, buildValues, expectGone, sandboxChildren } from "../plugin/support.ts";

export { RecordingUi, buildValues };

export const never = (): AbortSignal => new AbortController().signal;

/** One SSH server, one catalog and one local folder (the template directory) for a test file. */
export class Rig {
  catalog!: WasmPluginCatalog;
  sshd!: Sshd;
  comm!: SshCommunicator;
  /** The template directory handed to the provisioners (inside the granted roots). */
  templateDir!: string;

  async start(): Promise<void> {
    await buildAll();
    this.catalog = createPluginCatalog();
    this.templateDir = mkdtempSync(join(tmpdir(), "imgb-prov-"));
    this.sshd = await startSshd();
    this.comm = await this.connect();
  }

  async connect(extra: JsonObject = {}): Promise<SshCommunicator> {
    const { config, diagnostics } = parseSshConfig({
      ssh_host: this.sshd.host,
      ssh_port: this.sshd.port,
      ssh_username: this.sshd.user,
      ssh_private_key_file: this.sshd.clientKeyPath,
      ssh_host_key: this.sshd.hostPublicKey,
      ssh_timeout: "20s",
      ...extra,
    });
    expect(diagnostics).toEqual([]);
    return connectSsh(config!, new RecordingUi(), never());
  }

  async stop(): Promise<void> {
    await this.comm?.close();
    await this.catalog?.closeAll();
    await stopAllSshd();
    if (this.templateDir) rmSync(this.templateDir, { recursive: true, force: true });
    await expectGone(sandboxChildren());
  }

  /** Runs a command on the SSH machine (as the test user) and returns its stdout; fails on non-zero exit. */
  async remote(command: string): Promise<string> {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const r = await this.comm.start({ command, onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) }, never());
    if (r.kind !== "exited" || r.exitStatus !== 0) throw new Error(`${command}: ${JSON.stringify(r)} ${Buffer.concat(err).toString()}`);
    return Buffer.concat(out).toString("utf8");
  }

  /** prepare → errors as summaries (empty when it prepared). */
  async prepareErrors(type: string, ...configs: JsonObject[]): Promise<string[]> {
    const p = await this.catalog.provisioner(type);
    try {
      const r = await p.prepare(configs);
      return r.diagnostics.filter((d: Diagnostic) => d.severity === "error").map((d) => d.summary);
    } finally {
      await p.close();
    }
  }

  /** prepare + provision through the catalog, as the engine does; the error is the message the user sees. */
  async run(
    type: string,
    config: JsonObject,
    opts: { communicator?: Communicator; ui?: Ui & { lines: string[] }; signal?: AbortSignal; templateDir?: string; generated?: JsonObject } = {},
  ): Promise<{ lines: string[]; error: string | null; config: JsonObject }> {
    const p: Provisioner = await this.catalog.provisioner(type);
    const ui = opts.ui ?? new RecordingUi();
    try {
      const prepared = await p.prepare([config]);
      expect(prepared.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      try {
        await p.provision({
          ui,
          communicator: opts.communicator ?? this.comm,
          build: buildValues({ buildName: "null.ssh", sourceName: "ssh", generated: opts.generated ?? {} }),
          templateDir: opts.templateDir ?? this.templateDir,
          signal: opts.signal ?? never(),
        });
        return { lines: ui.lines, error: null, config: prepared.config };
      } catch (e) {
        return { lines: ui.lines, error: (e as Error).message, config: prepared.config };
      }
    } finally {
      await p.close();
    }
  }
}
