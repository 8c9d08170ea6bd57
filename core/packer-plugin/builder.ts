// A Packer builder plugin driven over RPC (packer-plugin-sdk rpc/builder.go, hook.go, ui.go,
// artifact.go). imgb is the core: it calls Builder.Prepare and Builder.Run, and serves the Hook
// and the Ui the builder calls back. The provisioning hook runs imgb's own (WASM) provisioners on
// the plugin's communicator; the artifact stays in the plugin, read over RPC.
import { basename } from "node:path";
import type { Ui, ProgressTracker } from "../ui/types.ts";
import type { JsonObject, JsonValue } from "../values/json.ts";
import { BridgedCommunicator } from "./communicator.ts";
import { schemaFromConfigSpec } from "./hcl-spec.ts";
import type { ConfigSchema } from "../config/schema.ts";
import type { PluginBinary } from "./discover.ts";
import { guardedCall, PluginError, startPlugin, type PluginConnection } from "./process.ts";
import { asObject, RpcClient, serveRpc, type RpcHandler } from "./rpc.ts";

/** Packer's hook names (packersdk.HookProvision, HookCleanupProvision). */

export interface PrepareResult {
  /** The builder's `build.*` keys (GeneratedVars). */
  generated: string[];
  warnings: string[];
  /** Packer's multierror text, as the builder wrote it. */
  errors: string[];
}

export interface RemoteArtifact {
  builderId: string;
  id: string;
  files: string[];
  string: string;
  state(name: string): Promise<JsonValue>;
  destroy(): Promise<void>;
}

export interface RunCallbacks {
  ui: Ui;
  /** The hook: `data` is the builder's generated data (Host, Port, ...). */
  hook(name: string, communicator: BridgedCommunicator, data: JsonObject, signal: AbortSignal): Promise<void>;
}

export interface BridgeOptions {
  /** Longest a Prepare may take before the plugin is declared hung and killed. */
  prepareTimeoutMs?: number;
  startTimeoutMs?: number;
  onLog?: (line: string) => void;
}

export class PluginBuilder {
  private constructor(
    readonly binary: PluginBinary,
    private readonly conn: PluginConnection,
    private readonly opts: BridgeOptions,
  ) {}

  static async start(binary: PluginBinary, opts: BridgeOptions = {}): Promise<PluginBuilder> {
    const conn = await startPlugin(binary.argv, { startTimeoutMs: opts.startTimeoutMs, onLog: opts.onLog });
    return new PluginBuilder(binary, conn, opts);
  }

  get pid(): number {
    return this.conn.pid;
  }

  private guarded<T>(what: string, call: Promise<T>, timeoutMs?: number): Promise<T> {
    return guardedCall(this.conn, this.binary.path, what, call, timeoutMs);
  }

  /** The builder's ConfigSpec as a schema (see hcl-spec.ts). */
  async configSchema(): Promise<ConfigSchema> {
    const reply = asObject(await this.guarded("ConfigSpec", this.conn.rpc.call("Builder.ConfigSpec", null), this.opts.prepareTimeoutMs ?? 60_000));
    if (!(reply.ConfigSpec instanceof Uint8Array)) throw new PluginError(this.binary.path, "ConfigSpec returned no spec");
    return schemaFromConfigSpec(reply.ConfigSpec, false, this.binary.encoding);
  }

  async prepare(configs: JsonObject[]): Promise<PrepareResult> {
    const reply = asObject(
      await this.guarded("Prepare", this.conn.rpc.call("Builder.Prepare", { Configs: configs }), this.opts.prepareTimeoutMs ?? 60_000),
    );
    const error = asObject(reply.Error).Message;
    return {
      generated: strings(reply.GeneratedVars),
      warnings: strings(reply.Warnings),
      errors: typeof error === "string" && error ? splitMultiError(error) : [],
    };
  }

  /** Runs the build; on abort, asks the builder to cancel (Builder.Cancel) and waits for it to clean up. */
  async run(callbacks: RunCallbacks, signal: AbortSignal): Promise<RemoteArtifact | null> {
    const { broker } = this.conn;
    const serveId = broker.nextId();
    const hookAbort = new AbortController();
    const onAbort = () => {
      hookAbort.abort(signal.reason);
      this.conn.rpc.call("Builder.Cancel", null).catch(() => undefined);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const handlers: Record<string, RpcHandler> = {
      ...uiHandlers(callbacks.ui, () => handlers),
      "Hook.Run": async (arg) => {
        const a = asObject(arg);
        const name = String(a.Name ?? "");
        const stream = await broker.dial(Number(a.StreamId));
        const rpc = new RpcClient(stream, `plugin ${basename(this.binary.path)}`);
        const comm = new BridgedCommunicator(rpc, broker, basename(this.binary.path));
        try {
          await callbacks.hook(name, comm, toJsonObject(a.Data), hookAbort.signal);
        } finally {
          rpc.close();
        }
        return null;
      },
      "Hook.Cancel": () => {
        hookAbort.abort(new Error("the builder cancelled provisioning"));
        return null;
      },
    };
    const served = broker.accept(serveId).then((stream) => serveRpc(stream, handlers));
    served.catch(() => undefined);
    try {
      const responseId = Number(await this.guarded("Run", this.conn.rpc.call("Builder.Run", serveId)));
      if (!responseId) return null;
      const rpc = new RpcClient(await broker.dial(responseId), `plugin ${basename(this.binary.path)}`);
      const call = <T>(method: string, arg: unknown = null) => this.guarded(method, rpc.call<T>(`Artifact.${method}`, arg));
      const [builderId, id, files, str] = await Promise.all([call<string>("BuilderId"), call<string>("Id"), call<unknown>("Files"), call<string>("String")]);
      return {
        builderId: String(builderId ?? ""),
        id: String(id ?? ""),
        files: strings(files),
        string: String(str ?? ""),
        state: async (name) => toJson(await call("State", name)),
        destroy: async () => {
          const err = asObject(await call("Destroy")).Message;
          if (typeof err === "string" && err) throw new PluginError(this.binary.path, `artifact destroy: ${err}`);
        },
      };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Ends the session and the process (it ignores SIGINT and SIGTERM, as Packer plugins do). */
  async kill(): Promise<void> {
    await this.conn.kill();
  }

  get exited(): Promise<string> {
    return this.conn.exited;
  }
}

/** The Ui the plugin calls (rpc/ui.go, ui_progress_tracking.go). */
function uiHandlers(ui: Ui, all: () => Record<string, RpcHandler>): Record<string, RpcHandler> {
  let trackers = 0;
  return {
    "Ui.Say": (m) => {
      ui.say(String(m ?? ""));
      return null;
    },
    "Ui.Message": (m) => {
      ui.message(String(m ?? ""));
      return null;
    },
    "Ui.Error": (m) => {
      ui.error(String(m ?? ""));
      return null;
    },
    "Ui.Ask": (q) => ui.ask(String(q ?? "")),
    "Ui.Machine": (a) => {
      const o = asObject(a);
      ui.machine(String(o.Category ?? ""), ...strings(o.Args));
      return null;
    },
    "Ui.NewTrackProgress": (a) => {
      const o = asObject(a);
      const id = `${String(o.Src ?? "")}${++trackers}`;
      const total = Number(o.TotalSize ?? 0);
      let done = Number(o.CurrentSize ?? 0);
      const tracker: ProgressTracker = ui.progress(String(o.Src ?? ""), total > 0 ? total : undefined);
      const handlers = all();
      handlers[`Ui${id}.Add`] = (n) => {
        done += Number(n ?? 0);
        tracker.update(done);
        return null;
      };
      handlers[`Ui${id}.Close`] = () => {
        tracker.finish();
        return null;
      };
      return id;
    },
  };
}

/**
 * The items of a Packer multierror: hashicorp/go-multierror ("2 errors occurred:\n\t* a\n\t* b\n\n")
 * or packersdk.MultiError ("2 error(s) occurred:\n\n* a\n* b"); anything else is one error.
 */
export function splitMultiError(text: string): string[] {
  if (!/^\d+ errors? occurred:|^\d+ error\(s\) occurred:/.test(text)) return [text.trim()];
  const items = text.split(/\n\t?\* /).slice(1);
  return items.map((s) => s.trimEnd()).filter(Boolean);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => (x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x))) : [];
}

function toJson(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === "object") return toJsonObject(v);
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return String(v);
}

function toJsonObject(v: unknown): JsonObject {
  const o = asObject(v);
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(o)) out[k] = toJson(x);
  return out;
}
