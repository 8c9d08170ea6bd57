// The provisioning hook: runs a build's provisioners in template order on the machine, with the
// per-provisioner keys Packer handles in its core (pause_before, timeout, max_retries, override).
import { DiagnosticsError, throwIfErrors } from "../errors/diagnostic.ts";
import type { Communicator } from "../communicator/types.ts";
import type { PluginCatalog, Provisioner } from "../plugin/types.ts";
import type { BuildContextValues, ProvisionerSpec } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import type { JsonObject } from "../values/json.ts";
import { goDurationString } from "../ui/duration.ts";
import { PluginCallError } from "../plugin/runtime.ts";
import { overrideSchema } from "../config/schema.ts";

export interface ProvisionEnv {
  pool: ProvisionerPool;
  ui: Ui;
  build: BuildContextValues;
  templateDir: string;
  signal: AbortSignal;
}

/** Provisioning failed; carries the communicator so the error-cleanup-provisioner can still use it. */
export class ProvisioningFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly communicator: Communicator,
  ) {
    super(errorMessage(cause));
    this.name = "ProvisioningFailed";
  }
}

export class ProvisionerTimedOut extends Error {
  constructor(readonly timeoutMs: number) {
    super(`provisioner timed out after ${goDurationString(timeoutMs)}`);
    this.name = "ProvisionerTimedOut";
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof DiagnosticsError) return err.message;
  // A plugin's own error reads as Packer's component error ("Script exited with ..."); host-side
  // failures (refusals, limits) keep the plugin's name so the user knows which sandbox it was.
  if (err instanceof PluginCallError && err.origin === "plugin") return err.detail;
  return err instanceof Error ? err.message : String(err);
}

export async function runProvisioners(specs: ProvisionerSpec[], comm: Communicator, env: ProvisionEnv): Promise<void> {
  for (const spec of specs) {
    if (env.signal.aborted) throw new Error("build was cancelled");
    try {
      await runOneProvisioner(spec, comm, env);
    } catch (err) {
      throw new ProvisioningFailed(err, comm);
    }
  }
}

/** Decode the spec for this build (with live build values) and run Prepare in the plugin. */
export async function prepareProvisioner(
  spec: ProvisionerSpec,
  pool: ProvisionerPool,
  build: BuildContextValues,
): Promise<Provisioner> {
  const plugin = await pool.get(spec.type);
  try {
    const schema = plugin.description.schema;
    const configs: JsonObject[] = [];
    const base = spec.config.decode(build, schema);
    throwIfErrors(base.diagnostics);
    configs.push(base.value);
    if (spec.override) {
      const over = spec.override.decode(build, overrideSchema(schema));
      throwIfErrors(over.diagnostics);
      configs.push(over.value);
    }
    const prepared = await plugin.prepare(configs);
    throwIfErrors(prepared.diagnostics);
    return plugin;
  } catch (err) {
    await pool.discard(spec.type);
    throw err;
  }
}

async function runOneProvisioner(spec: ProvisionerSpec, comm: Communicator, env: ProvisionEnv): Promise<void> {
  if (spec.pauseBeforeMs) {
    env.ui.say(`Pausing ${goDurationString(spec.pauseBeforeMs)} before the next provisioner...`);
    await sleep(spec.pauseBeforeMs, env.signal);
  }
  // Re-prepared at run time: the config may use build values only known now (Packer's "reprepare").
  const plugin = await prepareProvisioner(spec, env.pool, env.build);
  let ok = false;
  try {
    let triesLeft = spec.maxRetries;
    for (;;) {
      try {
        await provisionOnce(plugin, spec, comm, env);
        ok = true;
        return;
      } catch (err) {
        if (env.signal.aborted || triesLeft <= 0) {
          if (spec.maxRetries > 0 && !env.signal.aborted) env.ui.error("retry limit reached.");
          throw err;
        }
        env.ui.say(`Provisioner failed with ${JSON.stringify(errorMessage(err))}, retrying with ${triesLeft} trie(s) left`);
        triesLeft--;
      }
    }
  } finally {
    // A failed or killed sandbox is not reused: its state is unknown.
    if (!ok) await env.pool.discard(spec.type);
  }
}

async function provisionOnce(plugin: Provisioner, spec: ProvisionerSpec, comm: Communicator, env: ProvisionEnv): Promise<void> {
  if (!spec.timeoutMs) {
    await plugin.provision({ ui: env.ui, communicator: comm, build: env.build, templateDir: env.templateDir, signal: env.signal });
    return;
  }
  env.ui.say(`Setting a ${goDurationString(spec.timeoutMs)} timeout for the next provisioner...`);
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    env.ui.error("Cancelling provisioner after a timeout...");
    timeout.abort(new ProvisionerTimedOut(spec.timeoutMs ?? 0));
  }, spec.timeoutMs);
  try {
    await plugin.provision({
      ui: env.ui,
      communicator: comm,
      build: env.build,
      templateDir: env.templateDir,
      signal: AbortSignal.any([env.signal, timeout.signal]),
    });
  } catch (err) {
    if (timeout.signal.aborted) throw new ProvisionerTimedOut(spec.timeoutMs);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("build was cancelled"));
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error("build was cancelled"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * One sandboxed instance per provisioner type for the length of a build: provisioners run one at a
 * time in a build, and Prepare fully reconfigures an instance, so reusing it saves a process start
 * per provisioner. An instance that failed is discarded.
 */
export class ProvisionerPool {
  private readonly instances = new Map<string, Promise<Provisioner>>();
  constructor(private readonly catalog: PluginCatalog) {}

  get(type: string): Promise<Provisioner> {
    let p = this.instances.get(type);
    if (!p) {
      p = this.catalog.provisioner(type);
      this.instances.set(type, p);
      p.catch(() => this.instances.delete(type));
    }
    return p;
  }

  async discard(type: string): Promise<void> {
    const p = this.instances.get(type);
    this.instances.delete(type);
    if (p) await p.then((i) => i.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.instances.keys()];
    await Promise.all(all.map((t) => this.discard(t)));
  }
}
