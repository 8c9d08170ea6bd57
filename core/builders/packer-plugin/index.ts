// Builder types imgb does not have, served by a Packer plugin binary (Packer's own amazon-ebs,
// azure-arm, vsphere-iso, ... or any packer-builder-NAME) over the Packer plugin protocol. The plugin
// is a native, unsandboxed process, as under Packer; only builders and data sources run this way:
// provisioners and post-processors stay WASM-sandboxed, and the plugin's provisioning hook runs
// imgb's own provisioners on the communicator the plugin hands back.
import type { Builder, BuilderFactory, BuildState } from "../types.ts";
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import type { Artifact } from "../../engine/artifact.ts";
import type { BuildContextValues } from "../../template/model.ts";
import type { JsonObject } from "../../values/json.ts";
import type { ConfigSchema } from "../../config/schema.ts";
import { findComponent, type PluginBinary } from "../../packer-plugin/discover.ts";
import type { PluginBuilder, RemoteArtifact } from "../../packer-plugin/builder.ts";
import { HOOK_CLEANUP_PROVISION, HOOK_PROVISION } from "../../packer-plugin/handshake.ts";
import { loadPackerRuntime } from "../../packer-plugin/lazy-runtime.ts";
import { Cancelled } from "../../errors/cancelled.ts";
import { describeError } from "../../engine/errors.ts";
import { runProvisionHook } from "../common/machine-steps.ts";
import { ProvisioningFailed } from "../../engine/provision.ts";

/** Keys imgb's common-key injection adds; they go to the plugin in Packer's separate config. */
const COMMON_KEYS = ["packer_force", "packer_on_error", "packer_build_name", "packer_builder_type"];

/** What `inspect` and `init` say of a plugin-served builder. */
export function nativePluginNote(binary: PluginBinary): string {
  return `native Packer plugin ${binary.path} (runs unsandboxed with your rights, as under Packer)`;
}

/**
 * The factory for a builder type a Packer plugin serves, or undefined when none is installed. The
 * plugin is started once here for its ConfigSpec (the schema bodies are decoded with, so unknown
 * keys get positions) and that process then serves the build's Prepare and Run: one plugin process
 * per build, as under Packer. `release` ends it when nothing took it.
 */
export async function packerPluginBuilderFactory(type: string): Promise<(BuilderFactory & { plugin: PluginBinary }) | undefined> {
  const binary = await findComponent("builder", type);
  if (!binary) return undefined;
  const { PluginBuilder } = await loadPackerRuntime();
  let spare: PluginBuilder | undefined = await PluginBuilder.start(binary, bridgeOptions());
  // Plugins built before ConfigSpec existed (and any whose spec cannot be read) get a permissive
  // schema: their own Prepare still rejects unknown keys.
  let schema: ConfigSchema = { fields: [], allowUnknown: true, unknownLate: true };
  try {
    schema = await spare.configSchema();
  } catch {
    // keep the permissive schema
  }
  const take = async (): Promise<PluginBuilder> => {
    const p = spare;
    spare = undefined;
    return p ?? PluginBuilder.start(binary, bridgeOptions());
  };
  return {
    type,
    plugin: binary,
    schema,
    generatedKeys: [],
    create(config, build) {
      return { builder: pluginBuilder(binary, config, build, take), diagnostics: [] };
    },
    async validate(config, build) {
      const diagnostics: Diagnostic[] = [];
      let plugin: PluginBuilder | undefined;
      try {
        plugin = await take();
        const prep = await plugin.prepare(prepareConfigs(config, build));
        for (const w of prep.warnings) diagnostics.push({ severity: "warning", summary: w });
        for (const e of prep.errors) diagnostics.push(errorDiag(e));
        return { diagnostics, generatedKeys: prep.generated };
      } catch (err) {
        return { diagnostics: [errorDiag((err as Error).message)], generatedKeys: [] };
      } finally {
        await plugin?.kill();
      }
    },
    async release() {
      const p = spare;
      spare = undefined;
      await p?.kill();
    },
  };
}

function bridgeOptions() {
  const prepareTimeoutMs = Number(process.env.IMGB_PLUGIN_PREPARE_TIMEOUT_MS) || undefined;
  const startTimeoutMs = Number(process.env.IMGB_PLUGIN_START_TIMEOUT_MS) || undefined;
  return { prepareTimeoutMs, startTimeoutMs };
}

/** Packer's two raw configs: the builder's block, and the core's (packer/build.go packerConfig). */
function prepareConfigs(config: JsonObject, build: BuildContextValues): JsonObject[] {
  const own: JsonObject = {};
  for (const [k, v] of Object.entries(config)) if (!COMMON_KEYS.includes(k)) own[k] = v;
  return [
    own,
    {
      packer_build_name: build.sourceName,
      packer_builder_type: build.builderType,
      packer_core_version: "1.6.6",
      packer_debug: false,
      packer_force: build.force ?? false,
      packer_on_error: build.onError ?? "cleanup",
      packer_user_variables: (build.userVariables ?? {}) as JsonObject,
      packer_sensitive_variables: [],
    },
  ];
}

function pluginBuilder(binary: PluginBinary, config: JsonObject, build: BuildContextValues, take: () => Promise<PluginBuilder>): Builder {
  let plugin: PluginBuilder | undefined;
  let remote: RemoteArtifact | null = null;
  return {
    steps: () => [
      {
        name: "StepPackerPlugin",
        async run(state: BuildState) {
          state.ui.say(`Running builder ${build.builderType} from ${nativePluginNote(binary)}`);
          plugin = await take();
          const prep = await plugin.prepare(prepareConfigs(config, build));
          for (const w of prep.warnings) state.ui.say(`Warning: ${w}`);
          if (prep.errors.length) throw new Error(`${build.builderType} (${binary.path}) rejected its configuration:\n* ${prep.errors.join("\n* ")}`);
          let hookError: unknown;
          try {
            remote = await plugin.run(
              {
                ui: state.ui,
                hook: async (name, comm, data, signal) => {
                  for (const [k, v] of Object.entries(data)) state.setGenerated(k, v);
                  if (name === HOOK_CLEANUP_PROVISION) {
                    // Packer's StepProvision cleanup after a failed build: the error-cleanup-provisioner.
                    await runProvisionHook(state, comm, "cleanup");
                    return;
                  }
                  if (name !== HOOK_PROVISION) return;
                  try {
                    if (signal.aborted) throw new Cancelled();
                    await runProvisionHook(state, comm);
                  } catch (err) {
                    hookError = err;
                    throw err;
                  }
                },
              },
              state.signal,
            );
          } catch (err) {
            if (state.signal.aborted) throw new Cancelled();
            // The plugin ran its own error handling (packer_on_error, the cleanup hook): report the
            // provisioner's own error, not as imgb's provisioning failure.
            if (hookError) throw new Error(describeError(hookError));
            throw err;
          }
          if (state.signal.aborted) throw new Cancelled();
        },
      },
    ],
    artifact(): Artifact | null {
      const r = remote;
      if (!r) return null;
      return { builderId: r.builderId, id: r.id, files: r.files, string: r.string, state: {}, destroy: () => r.destroy() };
    },
    async close() {
      await plugin?.kill();
    },
  };
}
