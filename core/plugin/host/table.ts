// The one table of ABI imgb-plugin/1's host functions (namespace extism:host/user; docs/plugin-abi.md
// §3, §12, §14): per function, the capabilities it needs, whether it is pure (allowed in describe and
// prepare/configure) or run-phase only, where it is served, and its request and reply schemas. Every
// other list is derived from it: the sandbox's imports and signatures, the load-time import check,
// the gate in gate.ts, the parent's CPU accounting, the SDK's @external declarations
// (plugins-wasm/sdk/assembly/externals.ts, calls.ts) and the function table of docs/plugin-abi.md
// (both written by scripts/host-functions.ts). Handlers live beside (handlers.ts,
// ../streams/handlers.ts), typed by this table: the request they get, the reply they give. This module imports nothing but valibot: the sandbox child
// loads it too.
import * as v from "valibot";
import type { JsonValue } from "../../values/json.ts";
import type { HostCallContext } from "./context.ts";

/** Every capability a plugin may declare and a user may grant (docs/plugin-abi.md §4). */
export const KNOWN_CAPABILITIES = [
  "communicator",
  "local_exec",
  "local_file_read",
  "local_file_write",
  "temp_file",
  "artifact_read",
  "artifact_write",
  "ui_ask",
  "container_image",
  "comm_proxy",
] as const;
export type Capability = (typeof KNOWN_CAPABILITIES)[number];

// Request vocabulary shared by several functions.
const Json = v.unknown() as v.GenericSchema<JsonValue>;
const Base64 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, "is not base64"));
const ModeBits = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o7777));
/**
 * The mode of a file on this host: permission bits only. A set-user-ID, set-group-ID or sticky bit
 * would let a plugin leave a set-user-ID program (owned by the user imgb runs as) in a folder others reach.
 */
const LocalModeBits = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o777, "is not a permission mode (0 to 0o777: no set-ID or sticky bits on this host)"));
/** A file mode on the machine; absent: the file keeps its mode (or gets the default of its function). */
const Mode = v.optional(ModeBits);
/** A file mode on this host; absent: the file keeps its mode (or gets the default of its function). */
const LocalMode = v.optional(LocalModeBits);
const Mode644 = v.optional(LocalModeBits, 0o644);
const Output = v.optional(v.picklist(["ui", "return"]), "ui");
const StringList = v.optional(v.array(v.string()), []);
const Paths = v.pipe(v.array(v.string()), v.minLength(1, "needs at least one path"), v.maxLength(10_000));
const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "is not a sha256 hex digest"));
const Message = v.object({ message: v.string() });
const Empty = v.object({});

/**
 * A repository with an optional registry host and tag, as `docker tag` takes it. The first character
 * is never "-", so a name cannot be read as an engine option.
 */
export const IMAGE_REF =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;
const ImageRef = v.pipe(v.string(), v.regex(IMAGE_REF, "is not an image name like repository or registry/repository:tag"));
const PushRef = v.pipe(v.string(), v.regex(IMAGE_REF, "is not an image name like registry/repository:tag"));

export const HASH_TYPES = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] as const;
export const ARCHIVES = ["tar", "zip", "none"] as const;
export const COMPRESSIONS = ["gzip", "zstd", "xz", "lz4", "none"] as const;

// Reply vocabulary.
const CommandReply = v.object({
  exit_status: v.optional(v.number()),
  disconnected: v.optional(v.string()),
  stdout: v.optional(v.string()),
  stderr: v.optional(v.string()),
});
const Chunk = v.object({ data_base64: v.string(), eof: v.boolean(), size: v.number() });
const Handle = v.object({ handle: v.number(), size: v.number(), path: v.string() });

/** Where a function is served: the plugin host (after the gate) or the sandbox process itself. */
export type ServedIn = "host" | "sandbox";

/** A JSON host function: `(i64) -> i64`, a request block in, a reply block out. */
export interface JsonFunction<Req extends v.GenericSchema = v.GenericSchema, Rep extends v.GenericSchema = v.GenericSchema> {
  kind: "json";
  /** All of them must be declared and granted. */
  capabilities: readonly Capability[];
  /** Allowed in describe and prepare/configure as well as in run (no side effects). */
  pure: boolean;
  served: ServedIn;
  /** Its service time counts as the plugin's CPU time (quick work done on its behalf; parent.ts). */
  charged?: boolean;
  /** Counted against the UI message limit. */
  uiRate?: boolean;
  request: Req;
  reply: Rep;
  /** What it does, for docs/plugin-abi.md. */
  doc: string;
}

/** A byte mover: integer arguments, no JSON, served in the sandbox process. */
export interface RawFunction {
  kind: "raw";
  capabilities: readonly Capability[];
  pure: boolean;
  served: "sandbox";
  /** Its i64 arguments, by name. */
  params: readonly string[];
  /** How the SDK reads the i64 it returns: a count that may be -1 (i64) or an offset or length (u64). */
  result: "i64" | "u64";
  doc: string;
}

export type HostFunction = JsonFunction | RawFunction;

function json<Req extends v.GenericSchema, Rep extends v.GenericSchema, S extends ServedIn = "host">(
  f: Omit<JsonFunction<Req, Rep>, "kind" | "served" | "pure"> & { served?: S; pure?: boolean },
): JsonFunction<Req, Rep> & { served: S } {
  return { kind: "json", served: "host" as S, pure: false, ...f };
}

function raw(f: Omit<RawFunction, "kind" | "served">): RawFunction {
  return { kind: "raw", served: "sandbox", ...f };
}

export const HOST_FUNCTION_TABLE = {
  ui_say: json({ capabilities: [], pure: true, charged: true, uiRate: true, request: Message, reply: Empty, doc: "a line on the UI (Packer's `ui.Say`)" }),
  ui_message: json({ capabilities: [], pure: true, charged: true, uiRate: true, request: Message, reply: Empty, doc: "an indented line on the UI (`ui.Message`)" }),
  ui_error: json({ capabilities: [], pure: true, charged: true, uiRate: true, request: Message, reply: Empty, doc: "an error line on the UI (`ui.Error`)" }),
  ui_ask: json({ capabilities: ["ui_ask"], request: v.object({ query: v.string() }), reply: v.object({ answer: v.string() }), doc: "asks the user a question on the terminal" }),
  ui_progress: json({
    capabilities: [],
    charged: true,
    uiRate: true,
    request: v.variant("op", [
      v.object({ op: v.literal("start"), label: v.string(), total: v.optional(v.number()) }),
      v.object({ op: v.literal("update"), id: v.number(), done: v.number() }),
      v.object({ op: v.literal("finish"), id: v.number() }),
    ]),
    reply: v.object({ id: v.optional(v.number()) }),
    doc: "a progress bar: `start` answers its `id`",
  }),
  template_render: json({
    capabilities: [],
    pure: true,
    charged: true,
    request: v.object({ template: v.string(), data: v.optional(v.record(v.string(), Json), {}) }),
    reply: v.object({ result: v.string() }),
    doc: "renders a Go template with the build's values and `data` (§8)",
  }),
  plugin_error: json({ capabilities: [], pure: true, charged: true, request: Message, reply: Empty, doc: "the message of a trap that follows (a trap loses `error_set`'s)" }),
  now: json({
    capabilities: [],
    pure: true,
    served: "sandbox",
    request: Empty,
    reply: v.object({ unix_ms: v.number(), monotonic_ms: v.number() }),
    doc: "the clock (`monotonic_ms` never goes back, microsecond resolution; use it for deadlines)",
  }),
  sleep: json({
    capabilities: [],
    request: v.object({ ms: v.pipe(v.number(), v.minValue(0), v.maxValue(2 ** 31)) }),
    reply: Empty,
    doc: "waits `ms`; the call's abort (timeout, Ctrl-C) ends it early with `sleep: <reason>`",
  }),
  comm_start: json({
    capabilities: ["communicator"],
    request: v.object({ command: v.string(), stdin_base64: v.optional(Base64), output: Output }),
    reply: CommandReply,
    doc: "runs a command on the machine; `exit_status`, or `disconnected` with the reason; `stdout`/`stderr` with `\"return\"`",
  }),
  comm_upload: json({
    capabilities: ["communicator"],
    request: v.object({ dest: v.string(), src: v.union([v.object({ path: v.string() }), v.object({ data_base64: Base64 })]), mode: Mode }),
    reply: Empty,
    doc: "uploads a local file (within the read grants) or bytes",
  }),
  comm_upload_dir: json({
    capabilities: ["communicator"],
    request: v.object({ dest: v.string(), src: v.string(), exclude: StringList }),
    reply: Empty,
    doc: "uploads a local folder (every entry within the read grants)",
  }),
  comm_download: json({
    capabilities: ["communicator"],
    request: v.object({ src: v.string(), dest: v.union([v.object({ path: v.string() }), v.object({ return: v.literal(true) })]) }),
    reply: v.object({ data_base64: v.optional(v.string()) }),
    doc: "downloads a file to a local path (within the download grants) or returns its bytes",
  }),
  comm_download_dir: json({
    capabilities: ["communicator"],
    request: v.object({ src: v.string(), dest: v.string(), exclude: StringList }),
    reply: Empty,
    doc: "downloads a folder to a local path (within the download grants)",
  }),
  local_exec: json({
    capabilities: ["local_exec"],
    request: v.object({
      argv: v.pipe(v.array(v.string()), v.minLength(1, "argv is empty")),
      env: v.optional(v.record(v.string(), v.string())),
      cwd: v.optional(v.string()),
      stdin_base64: v.optional(Base64),
      output: Output,
    }),
    reply: CommandReply,
    doc: "runs a program on the host as the user; replies like `comm_start`",
  }),
  local_file_read: json({
    capabilities: ["local_file_read"],
    request: v.object({ path: v.string(), offset: v.optional(v.number(), 0), length: v.optional(v.number()) }),
    reply: Chunk,
    doc: "reads at most 4 MiB of a local file at `offset`",
  }),
  local_file_write: json({
    capabilities: ["local_file_write"],
    request: v.object({ path: v.string(), data_base64: Base64, append: v.optional(v.boolean(), false), mode: LocalMode }),
    reply: Empty,
    doc: "writes a temp file of the call or a file in the output directory",
  }),
  temp_file: json({
    capabilities: ["temp_file"],
    request: v.object({
      prefix: v.optional(v.string(), "imgb-"),
      suffix: v.optional(v.string(), ""),
      data_base64: v.optional(Base64, ""),
      mode: v.optional(LocalModeBits, 0o600),
    }),
    reply: v.object({ path: v.string() }),
    doc: "creates a temp file, removed when the call ends",
  }),
  artifact_read: json({
    capabilities: ["artifact_read"],
    request: v.object({ path: v.string(), offset: v.optional(v.number(), 0), length: v.optional(v.number()) }),
    reply: Chunk,
    doc: "reads at most 4 MiB of an input artifact's file or an output file at `offset`",
  }),
  artifact_write: json({
    capabilities: ["artifact_write"],
    request: v.object({ path: v.string(), data_base64: Base64, append: v.optional(v.boolean(), false), mode: LocalMode }),
    reply: Empty,
    doc: "writes a file in the output directory",
  }),
  image_tag: json({ capabilities: ["container_image"], request: v.object({ ref: ImageRef }), reply: Empty, doc: "tags the input artifact's image (`repository`, `registry:port/repository:tag`)" }),
  image_save: json({ capabilities: ["container_image"], request: v.object({ path: v.string() }), reply: Empty, doc: "saves the input artifact's image to a tar (within the download grants)" }),
  image_import: json({
    capabilities: ["container_image"],
    request: v.object({ path: v.string(), ref: ImageRef, changes: StringList }),
    reply: v.object({ id: v.string() }),
    doc: "imports one of the input artifact's files as an image; `changes` are Dockerfile instructions",
  }),
  image_push: json({
    capabilities: ["container_image"],
    request: v.object({
      refs: v.pipe(v.array(PushRef), v.minLength(1, "names no image")),
      login: v.optional(
        v.object({
          server: v.pipe(v.string(), v.regex(/^[A-Za-z0-9.[\]:-]+(\/[A-Za-z0-9._/-]*)?$/, "is not a registry host")),
          username: v.string(),
          password: v.string(),
        }),
      ),
      insecure: v.optional(v.boolean(), false),
    }),
    reply: v.object({ pushed: v.array(v.string()) }),
    doc: "pushes names of the input artifact's image to their registries",
  }),
  comm_proxy_open: json({
    capabilities: ["comm_proxy"],
    /** port 0 = a free port (Packer's local_port when set). */
    request: v.object({ port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)), 0) }),
    reply: v.object({ id: v.number(), host: v.string(), port: v.number(), private_key_file: v.string(), known_hosts_file: v.string() }),
    doc: "opens an SSH adapter on 127.0.0.1 bound to the build's communicator (port 0: a free one)",
  }),
  comm_proxy_close: json({ capabilities: ["comm_proxy"], request: v.object({ id: v.pipe(v.number(), v.integer()) }), reply: Empty, doc: "closes an adapter" }),
  // Streaming post-processor primitives (§12): the bytes stay on the host (../streams/).
  hash_files: json({
    capabilities: ["artifact_read"],
    request: v.object({
      paths: Paths,
      types: v.pipe(v.array(v.picklist(HASH_TYPES)), v.minLength(1, "needs at least one checksum type")),
      progress: v.optional(v.string()),
    }),
    reply: v.object({ files: v.array(v.object({ path: v.string(), size: v.number(), digests: v.record(v.string(), v.string()) })) }),
    doc: "digests of whole files, one read pass per file for all types (lowercase hex)",
  }),
  compress_files: json({
    capabilities: ["artifact_read", "artifact_write"],
    request: v.object({
      inputs: Paths,
      output: v.string(),
      archive: v.picklist(ARCHIVES),
      compression: v.picklist(COMPRESSIONS),
      level: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(9)), 6),
      progress: v.optional(v.string()),
      /** tar entry names, one per input (a .box holds the disk as box.img); default: the basenames. */
      names: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+$/, "is not a plain file name"), v.check((n) => n !== "." && n !== "..", "is not a plain file name")))),
    }),
    reply: v.object({ output: v.string(), input_bytes: v.number(), output_bytes: v.number() }),
    doc: "archives and compresses files into `output` (inputs may also be the call's temp files; `names`: tar entry names)",
  }),
  files_stat: json({
    capabilities: ["artifact_read"],
    request: v.object({ paths: Paths, glob: v.optional(v.boolean(), false) }),
    reply: v.object({ files: v.array(v.object({ path: v.string(), exists: v.boolean(), size: v.number(), is_file: v.boolean() })) }),
    doc: "stats files, or expands globs (Go `filepath.Glob` rules, matches sorted)",
  }),
  output_file_read: json({
    capabilities: ["artifact_read"],
    request: v.object({ path: v.string() }),
    reply: v.object({ exists: v.boolean(), data_base64: v.string(), sha256: v.nullable(v.string()), now_unix: v.number() }),
    doc: "reads a small file (at most ¾ of the message limit) with its sha256 for a later swap",
  }),
  output_file_swap: json({
    capabilities: ["artifact_write"],
    request: v.object({ path: v.string(), expect_sha256: v.nullable(Sha256), data_base64: Base64, mode: Mode644 }),
    reply: v.object({ swapped: v.boolean(), sha256: v.nullable(v.string()) }),
    doc: "replaces a small file if it still has `expect_sha256` (a locked compare-and-swap)",
  }),
  output_file_append: json({
    capabilities: ["artifact_write"],
    request: v.object({ path: v.string(), data_base64: Base64, mode: Mode644 }),
    reply: v.object({ created: v.boolean() }),
    doc: "appends to a file (creates it and its folder)",
  }),
  // Byte handles (§14): opened on the host (the grant check), moved in the sandbox process.
  artifact_open: json({
    capabilities: ["artifact_read"],
    request: v.object({ path: v.string() }),
    reply: Handle,
    doc: "opens an input artifact's file or an output file for `artifact_pread`",
  }),
  artifact_create: json({
    capabilities: ["artifact_write"],
    request: v.object({ path: v.string(), append: v.optional(v.boolean(), false), mode: Mode644 }),
    reply: Handle,
    doc: "creates (or appends to) a file in the output directory for `artifact_pwrite`",
  }),
  artifact_pread: raw({ capabilities: ["artifact_read"], pure: false, params: ["handle", "offset", "dst", "len"], result: "i64", doc: "reads up to `len` bytes at file `offset` into linear memory at `dst`; returns the count, 0 at the end (§14)" }),
  artifact_pwrite: raw({ capabilities: ["artifact_write"], pure: false, params: ["handle", "offset", "src", "len"], result: "i64", doc: "writes `len` bytes from linear memory at file `offset`; returns the count (§14)" }),
  artifact_close: raw({ capabilities: [], pure: false, params: ["handle"], result: "i64", doc: "closes a handle (0; -1 if it was not open)" }),
  // The SDK's memory copies: whole blocks to and from linear memory in one call.
  block_read: raw({ capabilities: [], pure: true, params: ["block", "dst"], result: "u64", doc: "copies a whole block to linear memory at `dst`; returns its length" }),
  block_write: raw({ capabilities: [], pure: true, params: ["src", "len"], result: "u64", doc: "new block holding `len` bytes of linear memory from `src`; returns its offset" }),
} as const satisfies Record<string, HostFunction>;

type Table = typeof HOST_FUNCTION_TABLE;
export type HostFunctionName = keyof Table;
/** The JSON functions (the ones with a request schema and a handler). */
export type JsonFunctionName = { [F in HostFunctionName]: Table[F] extends JsonFunction ? F : never }[HostFunctionName];
/** The functions the sandbox child serves itself (sandbox/child.ts implements each). */
export type SandboxServedName = { [F in HostFunctionName]: Table[F] extends { served: "sandbox" } ? F : never }[HostFunctionName];
export type RequestOf<F extends JsonFunctionName> = v.InferOutput<Table[F]["request"]>;

/** A handler serves one checked request; it throws Refusal or HostFailure (any other error: a failure). */
export type ReplyOf<F extends JsonFunctionName> = v.InferInput<Table[F]["reply"]>;
export type Handler<F extends JsonFunctionName> = (ctx: HostCallContext, req: RequestOf<F>) => Promise<ReplyOf<F>>;
export type Handlers = { [F in JsonFunctionName]: Handler<F> };

export const HOST_FUNCTION_NAMES = Object.keys(HOST_FUNCTION_TABLE) as HostFunctionName[];

export function isHostFunction(name: string): name is HostFunctionName {
  return Object.hasOwn(HOST_FUNCTION_TABLE, name);
}

export function hostFunction(name: string): HostFunction | undefined {
  return isHostFunction(name) ? HOST_FUNCTION_TABLE[name] : undefined;
}

/** Capabilities a host function needs (empty for ungated ones and for names not in the table). */
export function capabilitiesOf(name: string): readonly Capability[] {
  return hostFunction(name)?.capabilities ?? [];
}

/** Functions the sandbox child serves itself: no grant decision, no round trip to the host. */
export const SANDBOX_FUNCTIONS: ReadonlySet<string> = new Set(HOST_FUNCTION_NAMES.filter((f) => HOST_FUNCTION_TABLE[f].served === "sandbox"));

/** Functions whose service time counts as the plugin's CPU time. */
export const CHARGED_FUNCTIONS: ReadonlySet<string> = new Set(
  HOST_FUNCTION_NAMES.filter((f) => {
    const e: HostFunction = HOST_FUNCTION_TABLE[f];
    return e.kind === "json" && e.charged === true;
  }),
);

/** The wasm type of a host function's import, in wasm text form ("(i64) -> i64"). */
export function signatureOf(name: HostFunctionName): string {
  const e: HostFunction = HOST_FUNCTION_TABLE[name];
  return e.kind === "raw" ? `(${e.params.map(() => "i64").join(", ")}) -> i64` : "(i64) -> i64";
}
