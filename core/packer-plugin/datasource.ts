// A Packer data source plugin driven over RPC (packer-plugin-sdk rpc/datasource.go, rpc/common.go),
// the way Packer's hcl2template evaluates a `data` block (types.packer_config.go startDatasource,
// recursivelyEvaluateDatasources): start the plugin, decode the block with its ConfigSpec, Configure
// it with the decoded value (cty JSON), then either Execute it (its gob cty.Value is the block's
// value) or, when only validating, stop there and use an unknown value of OutputSpec's implied type
// (Packer 1.9's `validate` without -evaluate-datasources). Specs and the value are gob, or protobuf
// and cty msgpack for a plugin started with --protobuf (discover.ts decides, as Packer does). One plugin process per block, killed when
// the block is done, as under Packer. The process is native and unsandboxed, as under Packer.
import type { ConfigSchema } from "../config/schema.ts";
import type { ExternalDataSource } from "../template/hcl2/locals-and-data.ts";
import { V, type Value } from "../hcl/value.ts";
import type { JsonObject } from "../values/json.ts";
import { ctyJsonDynamic, ctyValueFromGob, ctyValueFromMsgpack } from "./cty.ts";
import type { PluginBinary } from "./discover.ts";
import { impliedTypeOfSpec, schemaFromConfigSpec } from "./hcl-spec.ts";
import { guardedCall, PluginError, startPlugin, type PluginConnection } from "./process.ts";
import { asObject } from "./rpc.ts";

export interface DatasourceOptions {
  /** Shared by the blocks of one template: once interrupted, no further plugin is started. */
  interrupted?: { by?: string };
  /** false: Configure only, the value is unknown (validate without -evaluate-datasources). */
  execute: boolean;
  /** Longest ConfigSpec, Configure or OutputSpec may take (Execute may take as long as it needs). */
  callTimeoutMs?: number;
  startTimeoutMs?: number;
}

/** One `data` block's plugin process. */
export class PluginDatasource {
  private constructor(
    readonly binary: PluginBinary,
    private readonly conn: PluginConnection,
    private readonly timeoutMs: number,
  ) {}

  static async start(binary: PluginBinary, opts: { startTimeoutMs?: number; callTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<PluginDatasource> {
    const conn = await startPlugin(binary.argv, { startTimeoutMs: opts.startTimeoutMs, signal: opts.signal });
    return new PluginDatasource(binary, conn, opts.callTimeoutMs ?? 60_000);
  }

  get pid(): number {
    return this.conn.pid;
  }

  private call(method: string, arg: unknown, timed = true): Promise<Record<string, unknown>> {
    return guardedCall(this.conn, this.binary.path, method, this.conn.rpc.call(`Datasource.${method}`, arg), timed ? this.timeoutMs : undefined).then(asObject);
  }

  private spec(reply: Record<string, unknown>, key: string): Uint8Array {
    const bytes = reply[key];
    if (!(bytes instanceof Uint8Array)) throw new PluginError(this.binary.path, `${key} returned no spec`);
    return bytes;
  }

  async configSchema(): Promise<ConfigSchema> {
    return schemaFromConfigSpec(this.spec(await this.call("ConfigSpec", null), "ConfigSpec"), true, this.binary.encoding);
  }

  /** The data source's own checks of its config; their message, or undefined when it accepts it. */
  async configure(config: JsonObject): Promise<string | undefined> {
    const reply = await this.call("Configure", { Configs: [ctyJsonDynamic(config)] });
    const message = asObject(reply.Error).Message;
    return typeof message === "string" && message ? message : undefined;
  }

  /** An unknown value of OutputSpec's implied type: each output attribute is there, unknown. */
  async placeholder(): Promise<Value> {
    const type = impliedTypeOfSpec(this.spec(await this.call("OutputSpec", null), "OutputSpec"), this.binary.encoding);
    if (type.kind !== "object") return V.unknown(type);
    const attrs: Record<string, Value> = {};
    for (const [k, t] of Object.entries(type.attrs)) attrs[k] = V.unknown(t);
    return V.object(attrs);
  }

  async execute(): Promise<Value> {
    const reply = await this.call("Execute", null, false);
    const message = asObject(reply.Error).Message;
    if (typeof message === "string" && message) throw new PluginError(this.binary.path, `Execute failed: ${message}`);
    if (!(reply.Value instanceof Uint8Array)) throw new PluginError(this.binary.path, "Execute returned no value");
    try {
      return this.binary.encoding === "protobuf" ? ctyValueFromMsgpack(reply.Value) : ctyValueFromGob(reply.Value);
    } catch (err) {
      throw new PluginError(this.binary.path, `Execute returned a value imgb cannot read: ${(err as Error).message}`);
    }
  }

  async kill(): Promise<void> {
    await this.conn.kill();
  }
}

/**
 * Starts the installed plugin serving a data source type (pluginDataSources found it).
 * Ctrl-C or SIGTERM while it lives kills it and fails the block as cancelled.
 */
export async function startPluginDatasource(binary: PluginBinary, type: string, opts: DatasourceOptions): Promise<ExternalDataSource> {
  if (opts.interrupted?.by) throw new PluginError(binary.path, `not started: received ${opts.interrupted.by}`);
  let interrupted: ((sig: string) => void) | undefined;
  const cancelled = new Promise<never>((_, reject) => {
    interrupted = (sig) => reject(new PluginError(binary.path, `data source ${type} cancelled: received ${sig}; the plugin is killed`));
  });
  cancelled.catch(() => undefined);
  // Kills the plugin even while it is still starting (before `plugin` is set).
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (opts.interrupted) opts.interrupted.by ??= sig;
    abort.abort();
    interrupted?.(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const starting = PluginDatasource.start(binary, { startTimeoutMs: opts.startTimeoutMs, callTimeoutMs: opts.callTimeoutMs, signal: abort.signal });
  starting.catch(() => undefined);
  const close = async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // Interrupted while starting: the abort is killing it; wait until it is gone.
    await starting.then((p) => p.kill(), () => undefined);
  };
  const whileAlive = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await Promise.race([p, cancelled]);
    } catch (err) {
      await close();
      throw err;
    }
  };
  const p = await whileAlive(starting);
  const schema = await whileAlive(p.configSchema());
  return {
    schema,
    async run(config) {
      try {
        const refused = await whileAlive(p.configure(config));
        if (refused) throw new PluginError(binary.path, `data source ${type} rejected its configuration: ${refused}`);
        return await whileAlive(opts.execute ? p.execute() : p.placeholder());
      } finally {
        await close();
      }
    },
    close,
  };
}
