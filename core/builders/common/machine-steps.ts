// Packer's commonsteps for a machine's life, shared by every builder: a scratch folder
// (StepTempDir), the connection (StepConnect) and the provisioning hook (StepProvision). They live
// with the builders, not the engine, as in packer-plugin-sdk: the engine only supplies the hook
// (`state.provision`); which communicator to hand it, and when, is the builder's business.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildState, Step } from "../types.ts";
import type { Communicator } from "../../communicator/types.ts";

/**
 * Packer's two provisioning hooks (HookProvision, HookCleanupProvision): hands a communicator to the
 * engine's, for the build's provisioners or its error-cleanup-provisioner. StepProvision calls it for
 * imgb's builders; a Packer plugin builder's own StepProvision calls it back over RPC.
 */
export async function runProvisionHook(state: BuildState, comm: Communicator, hook: "provision" | "cleanup" = "provision"): Promise<void> {
  if (hook === "cleanup") await state.provisionCleanup?.(comm);
  else await state.provision(comm);
}

/** Runs the build's provisioners (the engine's hook) on the communicator the connect step set. */
export function stepProvision(): Step {
  return {
    name: "StepProvision",
    async run(state: BuildState) {
      if (!state.communicator) throw new Error("no communicator: the connect step did not run");
      await runProvisionHook(state, state.communicator);
    },
  };
}

export interface ConnectHooks<C extends Communicator> {
  /** Reaches the machine; the result becomes `state.communicator`. */
  connect(state: BuildState): Promise<C>;
  /** Runs in cleanup before the communicator closes (ssh_clear_authorized_keys); its failure still closes. */
  beforeClose?(comm: C, state: BuildState): Promise<void>;
}

/** Sets `state.communicator` from `connect`; in cleanup unsets and closes it. */
export function stepConnect<C extends Communicator>(hooks: ConnectHooks<C> | ConnectHooks<C>["connect"]): Step {
  const { connect, beforeClose } = typeof hooks === "function" ? { connect: hooks, beforeClose: undefined } : hooks;
  let comm: C | undefined;
  return {
    name: "StepConnect",
    async run(state) {
      comm = await connect(state);
      state.communicator = comm;
    },
    async cleanup(state) {
      const c = comm;
      comm = undefined;
      if (state.communicator === c) state.communicator = undefined;
      if (!c) return;
      try {
        await beforeClose?.(c, state);
      } finally {
        await c.close();
      }
    },
  };
}

export interface TempDirOptions {
  /** The step's name (StepTempDir unless a builder keeps its own). */
  name?: string;
  prefix: string;
  set(path: string): void;
  get(): string | undefined;
  /** How to remove it (a root file system needs its mount guard); default rm -r. */
  remove?(path: string): Promise<void>;
  /** What stays under -on-error=abort, said of the folder's path. */
  left?(path: string): string;
}

/** A private temp folder for the build; `set` receives its path. Removed in cleanup. */
export function stepTempDir(o: TempDirOptions): Step {
  return {
    name: o.name ?? "StepTempDir",
    async run() {
      o.set(await mkdtemp(join(tmpdir(), o.prefix)));
    },
    async cleanup() {
      const dir = o.get();
      if (!dir) return;
      await (o.remove ? o.remove(dir) : rm(dir, { recursive: true, force: true }));
    },
    abandon() {
      const dir = o.get();
      if (!dir) return undefined;
      return o.left ? o.left(dir) : `the build's scratch folder stays in ${dir}`;
    },
  };
}
