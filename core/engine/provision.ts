// The provisioning hook: runs a build's provisioners in template order on the machine, with the
// per-provisioner keys Packer handles in its core (pause_before, timeout, max_retries, override).
import type { Communicator } from "../communicator/types.ts";
import type { BuildContextValues, ProvisionerSpec } from "../template/model.ts";
import type { Ui } from "../ui/types.ts";
import { DiagnosticsError, hasErrors } from "../errors/diagnostic.ts";
import { Cancelled, throwIfCancelled } from "../errors/cancelled.ts";
import { goDurationString } from "../ui/duration.ts";
import type { ComponentPipeline } from "./components.ts";
import { describeError } from "./errors.ts";

export interface ProvisionEnv {
  components: ComponentPipeline;
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
    super(describeError(cause));
    this.name = "ProvisioningFailed";
  }
}

export class ProvisionerTimedOut extends Error {
  constructor(readonly timeoutMs: number) {
    super(`provisioner timed out after ${goDurationString(timeoutMs)}`);
    this.name = "ProvisionerTimedOut";
  }
}

export async function runProvisioners(specs: ProvisionerSpec[], comm: Communicator, env: ProvisionEnv): Promise<void> {
  for (const spec of specs) {
    throwIfCancelled(env.signal);
    try {
      await runOneProvisioner(spec, comm, env);
    } catch (err) {
      throw new ProvisioningFailed(err, comm);
    }
  }
}

async function runOneProvisioner(spec: ProvisionerSpec, comm: Communicator, env: ProvisionEnv): Promise<void> {
  if (spec.pauseBeforeMs) {
    env.ui.say(`Pausing ${goDurationString(spec.pauseBeforeMs)} before the next provisioner...`);
    await sleep(spec.pauseBeforeMs, env.signal);
  }
  // Prepared again with the build's live values (Packer's reprepare), unless they are the values
  // validation prepared it with: then validation's answer stands.
  const scope = env.build.buildName;
  const prepared = await env.components.prepare("provisioner", spec, env.build, scope);
  if (hasErrors(prepared.diagnostics) || !prepared.config) throw new DiagnosticsError(prepared.diagnostics);
  const { plugin, config, build } = prepared;
  let ok = false;
  try {
    let triesLeft = spec.maxRetries;
    for (;;) {
      try {
        await provisionOnce((signal) => plugin.provision({ ui: env.ui, communicator: comm, build, templateDir: env.templateDir, signal, config }), spec, env);
        ok = true;
        return;
      } catch (err) {
        if (env.signal.aborted || triesLeft <= 0) {
          if (spec.maxRetries > 0 && !env.signal.aborted) env.ui.error("retry limit reached.");
          throw err;
        }
        env.ui.say(`Provisioner failed with ${JSON.stringify(describeError(err))}, retrying with ${triesLeft} trie(s) left`);
        triesLeft--;
      }
    }
  } finally {
    // A failed or killed sandbox is not reused: its state is unknown.
    if (!ok) await env.components.pool.discard(scope, "provisioner", spec.type);
  }
}

async function provisionOnce(provision: (signal: AbortSignal) => Promise<void>, spec: ProvisionerSpec, env: ProvisionEnv): Promise<void> {
  if (!spec.timeoutMs) return provision(env.signal);
  env.ui.say(`Setting a ${goDurationString(spec.timeoutMs)} timeout for the next provisioner...`);
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    env.ui.error("Cancelling provisioner after a timeout...");
    timeout.abort(new ProvisionerTimedOut(spec.timeoutMs ?? 0));
  }, spec.timeoutMs);
  try {
    await provision(AbortSignal.any([env.signal, timeout.signal]));
  } catch (err) {
    if (timeout.signal.aborted) throw new ProvisionerTimedOut(spec.timeoutMs);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Cancelled());
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Cancelled());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
