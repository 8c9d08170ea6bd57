// The docker builder's configuration: Packer's `docker` builder keys, plus three imgb keys that make
// a stock podman work on hosts where its defaults do not (engine, engine_args, ulimits).
import { defineFields, type ConfigOf } from "../../config/schema.ts";
import { decodeTyped } from "../../config/typed.ts";
import type { Diagnostic } from "../../errors/diagnostic.ts";
import { errorDiag } from "../../errors/diagnostic.ts";
import type { JsonObject } from "../../values/json.ts";
import { UserError } from "../../errors/diagnostic.ts";
import { renderPluginTemplate } from "../../plugin/host/template-adapter.ts";
import type { BuildContextValues } from "../../template/model.ts";

export const DEFAULT_RUN_COMMAND = ["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"];

/**
 * Rootful podman on hosts whose hard limits are below podman's defaults fails with "error setting
 * rlimits"; these values start everywhere. Set `ulimits = []` to keep the engine's own defaults
 * (e.g. when a containers.conf named by CONTAINERS_CONF sets default_ulimits).
 */
export const DEFAULT_ULIMITS = ["nofile=20000:20000", "nproc=20000:20000"];

export const dockerSchema = {
  fields: defineFields([
    { name: "image", type: "string", description: "Base image to start the container from." },
    { name: "pull", type: "bool", default: true, description: "Pull the image before starting." },
    { name: "commit", type: "bool", default: false, description: "Commit the container to an image." },
    { name: "discard", type: "bool", default: false, description: "Throw the container away." },
    { name: "export_path", type: "string", default: "", description: "Export the container filesystem as a tar." },
    { name: "changes", type: "list(string)", default: [], description: "Dockerfile instructions applied on commit." },
    { name: "author", type: "string", default: "", description: "Author of the committed image." },
    { name: "message", type: "string", default: "", description: "Commit message." },
    {
      name: "run_command",
      type: "list(string)",
      default: DEFAULT_RUN_COMMAND,
      late: true,
      description: "Arguments to `run`; a Packer template: {{.Image}} is the image, and the template functions ({{user}}, {{build_name}}, {{timestamp}}, ...) work.",
    },
    { name: "volumes", type: "map(string)", default: {}, description: "host path = container path." },
    { name: "privileged", type: "bool", default: false },
    { name: "cap_add", type: "list(string)", default: [] },
    { name: "cap_drop", type: "list(string)", default: [] },
    { name: "device", type: "list(string)", default: [] },
    { name: "tmpfs", type: "list(string)", default: [] },
    { name: "container_dir", type: "string", default: "/packer-files", description: "Where the build's temp folder is mounted." },
    { name: "exec_user", type: "string", default: "", description: "User commands run as (`exec -u`)." },
    { name: "fix_upload_owner", type: "bool", default: true, description: "Accepted for Packer; uploads are always owned by exec_user." },
    { name: "platform", type: "string", default: "" },
    { name: "login", type: "bool", default: false, description: "Log in to login_server before pulling (and out after)." },
    { name: "login_server", type: "string", default: "", description: "Registry to log in to." },
    { name: "login_username", type: "string", default: "", description: "Registry user." },
    { name: "login_password", type: "string", default: "", description: "Registry password (given on stdin, never on a command line)." },
    { name: "ecr_login", type: "bool", default: false, description: "Log in to Amazon ECR with AWS credentials (not available in imgb)." },
    { name: "aws_access_key", type: "string", default: "", description: "For ecr_login." },
    { name: "aws_secret_key", type: "string", default: "", description: "For ecr_login." },
    { name: "aws_token", type: "string", default: "", description: "For ecr_login." },
    { name: "aws_profile", type: "string", default: "", description: "For ecr_login." },
    { name: "engine", type: "string", default: "podman", description: "imgb: the container CLI." },
    { name: "engine_args", type: "list(string)", default: [], description: "imgb: global CLI arguments, e.g. [\"--runtime\", \"runc\"]." },
    { name: "ulimits", type: "list(string)", default: DEFAULT_ULIMITS, description: "imgb: `--ulimit` values for the container." },
  ]),
};

export type DockerConfig = ConfigOf<typeof dockerSchema.fields>;

/** Instructions `commit --change` accepts (Packer's list). */
const CHANGE_INSTRUCTIONS = new Set([
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

export function parseDockerConfig(raw: JsonObject): { config?: DockerConfig; diagnostics: Diagnostic[] } {
  const { value: c, diagnostics } = decodeTyped("docker", dockerSchema, raw);
  if (!c) return { diagnostics };
  const bad = (summary: string) => diagnostics.push(errorDiag(`docker: ${summary}`));
  if (!c.image) bad('"image" must be specified');
  const outputs = [c.commit, c.discard, c.export_path !== ""].filter(Boolean).length;
  if (c.export_path && c.commit) bad("both commit and export_path cannot be set");
  if (c.export_path && c.discard) bad("both discard and export_path cannot be set");
  if (c.commit && c.discard) bad("both commit and discard cannot be set");
  if (outputs === 0) bad("one of commit, discard, or export_path must be set");
  for (const change of c.changes) {
    const word = change.trim().split(/\s+/)[0]?.toUpperCase() ?? "";
    if (!CHANGE_INSTRUCTIONS.has(word)) {
      bad(`changes: "${change}": unknown instruction; allowed: ${[...CHANGE_INSTRUCTIONS].join(", ")}`);
    }
  }
  if (!c.container_dir.startsWith("/")) bad('"container_dir" must be an absolute path');
  for (const u of c.ulimits) if (!/^[a-z]+=-?\d+(:-?\d+)?$/.test(u)) bad(`ulimits: "${u}" is not NAME=SOFT[:HARD]`);
  if (c.run_command.length === 0) bad('"run_command" must not be empty');
  if (c.ecr_login) {
    // Packer gets a token from the ECR API with the AWS SDK; imgb has no AWS client.
    bad(
      `ecr_login needs AWS credentials and Amazon's ECR API, which imgb does not include. Log in before the build instead ` +
        `(aws ecr get-login-password | ${c.engine} login --username AWS --password-stdin ${c.login_server || "ACCOUNT.dkr.ecr.REGION.amazonaws.com"}) and remove ecr_login`,
    );
  }
  if (c.login && !c.login_server) bad('"login_server" must be set when login is true');
  if (c.login && c.login_username && !c.login_password) bad('"login_password" must be set with login_username');
  if (diagnostics.length > 0) return { diagnostics };
  return { config: c, diagnostics };
}

/**
 * Renders run_command as Packer's driver does (interpolate.Render with {{.Image}} as the data): the
 * build's template functions and user variables work too.
 */
export function renderRunCommand(args: string[], image: string, build?: BuildContextValues, templateDir?: string): string[] {
  return args.map((a, i) => {
    try {
      return renderPluginTemplate(a, { Image: image }, build, templateDir);
    } catch (e) {
      throw new UserError(`docker: run_command[${i}] ${JSON.stringify(a)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}
