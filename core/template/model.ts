// The template model every loader produces and the engine consumes. Legacy JSON and HCL2 differ in
// syntax and in *when* values are evaluated; both are hidden behind ConfigBody, so the engine never
// knows which format a build came from.
import type { Diagnostic, SourceRange } from "../errors/diagnostic.ts";
import type { JsonObject, JsonValue } from "../values/json.ts";
import type { ConfigSchema } from "../config/schema.ts";
import type { ExternalDataSources } from "./hcl2/locals-and-data.ts";

export type TemplateFormat = "json" | "hcl2";

/**
 * Values known only while a build runs. Builders publish them (Packer's "generated data" /
 * HCL2 `build.*`, JSON `{{build `Host`}}`); before the build starts they are placeholders.
 */
export interface BuildContextValues {
  /** Build name as shown in the UI (JSON: name or type; HCL2: [BUILD.]TYPE.NAME). */
  buildName: string;
  /** Source name alone (HCL2 `source.name`; PACKER_BUILD_NAME). JSON: same as buildName. */
  sourceName: string;
  builderType: string;
  /** `build.*` values (ID, Host, Port, User, Password, ConnType, SSHPublicKey, SSHPrivateKey, ...). */
  generated: Record<string, JsonValue>;
  /** True during validate/prepare: `build.*` values render as Packer's placeholders. */
  placeholders: boolean;
  /** `-force` was given (Packer's packer_force): components may overwrite existing output. */
  force?: boolean;
  /** `-on-error` mode (Packer's packer_on_error). */
  onError?: string;
  /** The template's variables, for `{{user}}` in keys a plugin renders late; never sent to the plugin. */
  userVariables?: Record<string, JsonValue>;
}

/**
 * A component's configuration, not yet evaluated. `decode` evaluates it for one build:
 * JSON renders `{{ }}` in every string except keys the schema marks `late`; HCL2 evaluates
 * expressions with `build.*`, `source.*`, variables and locals in scope and checks the body
 * against the schema (unknown keys, wrong types) with positions.
 */
export interface ConfigBody {
  readonly range?: SourceRange;
  decode(ctx: BuildContextValues, schema?: ConfigSchema): { value: JsonObject; diagnostics: Diagnostic[] };
}

/** Shared keys Packer handles in the core for every provisioner. */
export interface ProvisionerSpec {
  type: string;
  /** HCL2 `name` label; JSON has none. */
  name?: string;
  config: ConfigBody;
  /** JSON `override[buildName]` / HCL2 `override[sourceName]`, already chosen for this build; merged after config. */
  override?: ConfigBody;
  pauseBeforeMs?: number;
  maxRetries: number;
  timeoutMs?: number;
  range?: SourceRange;
}

export interface PostProcessorSpec {
  type: string;
  name?: string;
  config: ConfigBody;
  /** undefined = not set by the template (the plugin's keep / force_override rules decide). */
  keepInputArtifact?: boolean;
  range?: SourceRange;
}

/** One build: a builder instance plus what runs on it. only/except are already applied. */
export interface BuildSpec {
  /** Build name (see BuildContextValues.buildName). */
  name: string;
  sourceName: string;
  builderType: string;
  builder: ConfigBody;
  provisioners: ProvisionerSpec[];
  errorCleanupProvisioner?: ProvisionerSpec;
  /** A list of chains; each chain starts from the builder's artifact. */
  postProcessors: PostProcessorSpec[][];
  range?: SourceRange;
}

export interface RequiredPlugin {
  localName: string;
  source: string;
  versionConstraint: string;
  range?: SourceRange;
}

export interface Template {
  path: string;
  /** Folder of the template (JSON `{{template_dir}}`, HCL2 `path.root`). */
  dir: string;
  format: TemplateFormat;
  description?: string;
  minVersion?: string;
  /** Final variable values, after -var / -var-file / env / defaults. */
  variables: Record<string, JsonValue>;
  /** Values to mask as `<sensitive>` in every line of output. */
  sensitiveValues: string[];
  builds: BuildSpec[];
  requiredPlugins: RequiredPlugin[];
  /** How -only/-except match build names: JSON exact names, HCL2 globs (see PACKER-BEHAVIOURS). */
  nameMatching: "exact" | "glob";
  /** Warnings gathered while loading. */
  warnings: Diagnostic[];
  /** Set when loaded with LoadOptions.inspect. */
  inspectView?: InspectView;
}

/** What the CLI passes to a loader. */
export interface LoadOptions {
  /** `-var k=v`, in command-line order (later wins). */
  vars: Array<[string, string]>;
  varFiles: string[];
  env: Record<string, string | undefined>;
  /** -syntax-only: parse, but do not resolve variables or components. */
  syntaxOnly?: boolean;
  /**
   * `inspect`: a read-only view. Unset variables are unknown (not errors), data sources are not
   * run (their results are unknown), and the loader fills Template.inspectView.
   */
  inspect?: boolean;
  /** HCL2 `data` blocks of types the template engine lacks (Packer plugins' data sources). */
  externalDataSources?: ExternalDataSources;
}

/** What `inspect` shows, in the shape of Packer's two inspect outputs. */
export type InspectView =
  | {
      format: "json";
      description?: string;
      variables: Array<{ name: string; default: string; required: boolean; sensitive: boolean }>;
      builders: Array<{ name: string; type: string }>;
      provisioners: string[];
      postProcessors: string[][];
    }
  | {
      format: "hcl2";
      /** Values as Packer prints them (PrintableCtyValue): "<unknown>", "<sensitive>", or text. */
      variables: Array<{ name: string; shown: string }>;
      locals: Array<{ name: string; shown: string }>;
      builds: Array<{ name?: string; description?: string; sources: string[]; provisioners: string[]; postProcessors: string[][] }>;
    };
