// ansible provisioner (Packer's, github.com/hashicorp/ansible): runs ansible-playbook on the imgb host
// against the machine. By default (use_proxy) the host opens a communicator adapter (capability
// comm_proxy): an SSH server on 127.0.0.1 that forwards ansible's sessions to the build's
// communicator, so ansible reaches SSH machines, containers and chroots alike. With use_proxy = false
// ansible connects straight to the machine's SSH address with the build's key.
// Differences from Packer, on purpose: the adapter's host key is checked (a known_hosts file for
// its port, not ANSIBLE_HOST_KEY_CHECKING=False); `user` defaults to the communicator's user (so
// `~` on the machine is that user's home); SFTP is served by the host (sftp_command is not needed).
import { abortWith, Build, Description, Json, Local, Plugin, Prepared, Temp, Template, Ui, fail, HostCall, mergeConfigs, ok } from "../../sdk/assembly/sdk";
import { CommProxy } from "../../sdk/assembly/commproxy";
import { JsonKind } from "../../sdk/assembly/json";

const INSTALL_HINT =
  "install ansible-core on this computer (Debian/Ubuntu: apt-get install ansible-core; elsewhere: pipx install ansible-core), or set `command` to its path";
const DEFAULT_INVENTORY_LINE = "{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} ansible_port={{ .Port }}\n";

export function describe(): i32 {
  const d = new Description("provisioner", "ansible", "0.1.0")
    .field("playbook_file", "string", true, false, "The playbook to run.")
    .field("command", "string", false, false, "The ansible-playbook program (default ansible-playbook).")
    .field("extra_arguments", "list(string)", false, false, "More arguments for ansible-playbook (not passed through a shell).")
    .field("ansible_env_vars", "list(string)", false, false, "KEY=value environment variables for ansible.")
    .field("ansible_ssh_extra_args", "list(string)", false, false, "--ssh-extra-args (default -o IdentitiesOnly=yes).")
    .field("groups", "list(string)", false, false, "Inventory groups the machine is in.")
    .field("empty_groups", "list(string)", false, false, "Inventory groups that stay empty.")
    .field("host_alias", "string", false, false, "The machine's inventory name (default `default`).")
    .field("user", "string", false, false, "ansible_user (default: the communicator's user).")
    .field("local_port", "number", false, false, "The adapter's port on 127.0.0.1 (default: a free one).")
    .field("sftp_command", "string", false, false, "Accepted for Packer templates; the adapter serves SFTP itself.")
    .field("skip_version_check", "bool", false, false, "Do not run `ansible-playbook --version` first.")
    .field("use_proxy", "bool", false, false, "Connect through the adapter (default true).")
    .field("use_sftp", "bool", false, false, "Transfer files with sftp rather than scp (ANSIBLE_SCP_IF_SSH).")
    .field("inventory_directory", "string", false, false, "Folder the generated inventory file is written to (its group_vars/host_vars apply).")
    .field("inventory_file", "string", false, false, "Use this inventory instead of a generated one.")
    .field("inventory_file_template", "string", false, true, "The generated inventory's host line ({{ .HostAlias }}, {{ .Host }}, {{ .User }}, {{ .Port }}).")
    .field("keep_inventory_file", "bool", false, false, "Keep the generated inventory file.")
    .field("galaxy_file", "string", false, false, "A requirements file ansible-galaxy installs from first.")
    .field("galaxy_command", "string", false, false, "The ansible-galaxy program (default ansible-galaxy).")
    .field("galaxy_force_install", "bool", false, false, "ansible-galaxy -f.")
    .field("galaxy_force_with_deps", "bool", false, false, "ansible-galaxy --force-with-deps.")
    .field("roles_path", "string", false, false, "ansible-galaxy -p for roles.")
    .field("collections_path", "string", false, false, "ansible-galaxy -p for collections.")
    .field("ssh_host_key_file", "string", false, false, "Not supported: the adapter's host key is generated and checked.")
    .field("ssh_authorized_key_file", "string", false, false, "Not supported: the adapter's client key is generated.")
    .field("ansible_proxy_key_type", "string", false, false, "Accepted; the adapter's keys are ed25519.")
    .capability("comm_proxy")
    .capability("local_exec")
    .capability("local_file_read")
    .capability("temp_file");
  return ok(d.toJson());
}

export function prepare(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("playbook_file").length == 0) p.error("playbook_file must be specified.");
  if (c.getString("command").length == 0) c.setStr("command", "ansible-playbook");
  if (c.getString("galaxy_command").length == 0) c.setStr("galaxy_command", "ansible-galaxy");
  if (c.getString("host_alias").length == 0) c.setStr("host_alias", "default");
  const port = c.getNumber("local_port", 0);
  if (port < 0 || port > 65535 || port != Math.floor(port)) p.error("local_port: " + port.toString() + " must be a valid port");
  if (c.getString("ssh_host_key_file").length > 0) p.error("ssh_host_key_file is not supported: the adapter's host key is generated for each run and checked by ansible.");
  if (c.getString("ssh_authorized_key_file").length > 0) p.error("ssh_authorized_key_file is not supported: the adapter accepts only the key it generates for each run.");
  const envs = c.getStringList("ansible_env_vars");
  if (envs !== null) {
    for (let i = 0; i < envs.length; i++) if (envs[i].indexOf("=") <= 0) p.error("ansible_env_vars: " + envs[i] + " is not KEY=value");
  }
  return p.finish(c);
}

function listOf(c: Json, key: string): Array<string> {
  const l = c.getStringList(key);
  return l === null ? new Array<string>() : l;
}

function genString(g: Json, key: string): string {
  const v = g.get(key);
  if (v === null) return "";
  if (v.kind == JsonKind.String) return g.getString(key);
  if (v.kind == JsonKind.Number) return i64(g.getNumber(key)).toString();
  return "";
}

/** The local program could not be started at all (not installed, not executable). */
function isMissingProgram(reply: Json): bool {
  return reply.has("error") && reply.getString("error").indexOf("cannot start") >= 0;
}

/** Runs argv with `env`; "" when it exited 0, else the reason. Output goes to the UI as it comes. */
function runLocal(argv: Array<string>, env: Json, what: string): string {
  const req = Json.obj().set("argv", Json.strings(argv)).set("env", env).setStr("output", "ui");
  const reply = HostCall.local_exec(req, true);
  if (isMissingProgram(reply)) return argv[0] + " was not found: " + INSTALL_HINT + ".";
  if (reply.has("error")) return what + ": " + reply.getString("error");
  if (reply.has("disconnected")) return what + " was stopped: " + reply.getString("disconnected");
  const status = i32(reply.getNumber("exit_status", -1));
  return status == 0 ? "" : what + ": Non-zero exit status: exit status " + status.toString();
}

function envOf(c: Json, useProxy: bool, logPath: string): Json {
  const env = Json.obj();
  // Ansible's own log, read back to name the failing task in the error.
  env.setStr("ANSIBLE_LOG_PATH", logPath);
  env.setStr("ANSIBLE_NOCOLOR", "True");
  if (!useProxy) env.setStr("ANSIBLE_HOST_KEY_CHECKING", "False");
  if (!c.getBool("use_sftp", false)) env.setStr("ANSIBLE_SCP_IF_SSH", "True");
  const list = listOf(c, "ansible_env_vars");
  for (let i = 0; i < list.length; i++) {
    const eq = list[i].indexOf("=");
    env.setStr(list[i].substring(0, eq), list[i].substring(eq + 1));
  }
  return env;
}

function galaxy(c: Json, env: Json): string {
  const file = c.getString("galaxy_file");
  if (file.length == 0) return "";
  const text = String.UTF8.decode(Local.readFile(file).buffer);
  const hasRoles = text.startsWith("roles:") || text.indexOf("\nroles:") >= 0;
  const hasCollections = text.startsWith("collections:") || text.indexOf("\ncollections:") >= 0;
  const roleArgs: Array<string> = [c.getString("galaxy_command"), "install", "-r", file];
  const collArgs: Array<string> = [c.getString("galaxy_command"), "collection", "install", "-r", file];
  if (c.getBool("galaxy_force_install", false)) {
    roleArgs.push("-f");
    collArgs.push("-f");
  }
  if (c.getBool("galaxy_force_with_deps", false)) {
    roleArgs.push("--force-with-deps");
    collArgs.push("--force-with-deps");
  }
  if (c.getString("roles_path").length > 0) {
    roleArgs.push("-p");
    roleArgs.push(c.getString("roles_path"));
  }
  if (c.getString("collections_path").length > 0) {
    collArgs.push("-p");
    collArgs.push(c.getString("collections_path"));
  }
  Ui.message("Executing Ansible Galaxy");
  if (hasRoles || !hasCollections) {
    const err = runLocal(roleArgs, env, "Error executing Ansible Galaxy");
    if (err.length > 0) return err;
  }
  if (hasCollections) return runLocal(collArgs, env, "Error executing Ansible Galaxy");
  return "";
}

/** The generated inventory: the host line, then each group with it, then the empty groups. */
function inventoryText(c: Json, host: string, port: string, user: string): string {
  let tpl = c.getString("inventory_file_template");
  if (tpl.length == 0) tpl = DEFAULT_INVENTORY_LINE;
  const data = Json.obj().setStr("HostAlias", c.getString("host_alias")).setStr("Host", host).setStr("User", user).setStr("Port", port);
  const line = Template.render(tpl, data);
  let out = line;
  const groups = listOf(c, "groups");
  for (let i = 0; i < groups.length; i++) out += "[" + groups[i] + "]\n" + line;
  const empty = listOf(c, "empty_groups");
  for (let i = 0; i < empty.length; i++) out += "[" + empty[i] + "]\n";
  return out;
}

/** Copies a temp file to `dir` with Packer's name for kept inventories; the new path. */
function copyInventory(temp: string, dir: string, env: Json): string {
  const slash = temp.lastIndexOf("/");
  const dest = dir + (dir.endsWith("/") ? "" : "/") + "packer-provisioner-ansible" + temp.substring(slash + 1 + "imgb-inventory".length);
  const err = runLocal(["cp", temp, dest], env, "writing the inventory to " + dir);
  if (err.length > 0) abortWith(err);
  return dest;
}

/** "TASK [name]" and ansible's failure line from its log, for the error message. */
function failingTask(logPath: string): string {
  const first = Local.readChunk(logPath, 0, 1);
  const size = first.size;
  const from = size > 1048576 ? size - 1048576 : 0;
  const text = String.UTF8.decode(Local.readChunk(logPath, from, 1048576).data.buffer);
  const lines = text.split("\n");
  let task = "";
  for (let i = 0; i < lines.length; i++) {
    const bar = lines[i].indexOf(" | ");
    const l = bar >= 0 ? lines[i].substring(bar + 3) : lines[i];
    if (l.startsWith("TASK [")) {
      const end = l.indexOf("]");
      task = end > 0 ? l.substring(0, end + 1) : l;
    } else if (l.startsWith("fatal:") || l.startsWith("failed:") || l.startsWith("ERROR!")) {
      const detail = l.length > 600 ? l.substring(0, 600) + "..." : l;
      return task.length > 0 ? task + " " + detail : detail;
    }
  }
  return "";
}

/** The command line as Packer prints it, with password/secret values of extra arguments masked. */
function shown(argv: Array<string>, extra: Array<string>, generatedPassword: string): string {
  let s = argv.join(" ");
  for (let i = 0; i < extra.length; i++) {
    const eq = extra[i].indexOf("=");
    if (eq < 0) continue;
    const key = extra[i].substring(0, eq).toLowerCase();
    const value = extra[i].substring(eq + 1);
    if ((key.indexOf("password") >= 0 || key.indexOf("secret") >= 0) && value.length > 0) s = s.replaceAll(value, "*****");
  }
  if (generatedPassword.length > 0) s = s.replaceAll(generatedPassword, "*****");
  return s;
}

export function provision(): i32 {
  const b = new Build(Plugin.input());
  const c = b.config;
  const g = b.generated;
  Ui.say("Provisioning with Ansible...");
  let useProxy = c.getBool("use_proxy", true);
  const connType = genString(g, "ConnType");
  if (!useProxy && genString(g, "Host").length == 0) {
    Ui.error("Warning: use_proxy is false, but instance does not have an IP address to give to Ansible. Falling back to use localhost proxy.");
    useProxy = true;
  }
  if (!useProxy && connType != "ssh") {
    Ui.error("Warning: use_proxy is false, but communicator is not ssh, so without the proxy ansible will not function. Falling back to localhost proxy.");
    useProxy = true;
  }
  const logPath = Temp.file("imgb-ansible-log", "");
  const env = envOf(c, useProxy, logPath);
  const command = c.getString("command");

  if (!c.getBool("skip_version_check", false)) {
    const reply = HostCall.local_exec(Json.obj().set("argv", Json.strings([command, "--version"])).setStr("output", "return"), true);
    if (isMissingProgram(reply)) return fail(command + " was not found: " + INSTALL_HINT + ".");
    if (reply.has("error")) return fail("Error running \"" + command + " --version\": " + reply.getString("error"));
    if (i32(reply.getNumber("exit_status", -1)) != 0) return fail("Error running \"" + command + " --version\": " + reply.getString("stderr"));
  }

  let user = c.getString("user");
  if (user.length == 0) user = genString(g, "User");
  if (user.length == 0) user = "root";

  const sshExtra = new Array<string>();
  const userExtra = listOf(c, "ansible_ssh_extra_args");
  if (userExtra.length > 0) for (let i = 0; i < userExtra.length; i++) sshExtra.push(userExtra[i]);
  else sshExtra.push("-o IdentitiesOnly=yes");

  let host = "";
  let port = "";
  let keyFile = "";
  let proxy: CommProxy | null = null;
  if (useProxy) {
    proxy = CommProxy.open(i32(c.getNumber("local_port", 0)));
    host = proxy.host;
    port = proxy.port.toString();
    keyFile = proxy.privateKeyFile;
    // ssh, sftp and scp all check the adapter's host key (ssh_common_args reaches the three).
    const pinned = "-o UserKnownHostsFile=" + proxy.knownHostsFile + " -o StrictHostKeyChecking=yes";
    const common = env.getString("ANSIBLE_SSH_COMMON_ARGS");
    env.setStr("ANSIBLE_SSH_COMMON_ARGS", common.length > 0 ? common + " " + pinned : pinned);
    Ui.message("Using the communicator adapter on " + host + ":" + port);
  } else {
    Ui.message("Not using Proxy adapter for Ansible run:\n\tUsing ssh keys from Packer communicator...");
    host = genString(g, "Host");
    port = genString(g, "Port");
    if (c.getString("user").length == 0) user = genString(g, "User");
    keyFile = genString(g, "SSHPrivateKeyFile");
    const key = genString(g, "SSHPrivateKey");
    if (keyFile.length == 0 && key.length > 0) keyFile = Temp.file("ansible-key", key);
  }

  let inventory = c.getString("inventory_file");
  let kept = "";
  if (inventory.length == 0) {
    inventory = Temp.file("imgb-inventory", inventoryText(c, host, port, user));
    const dir = c.getString("inventory_directory");
    if (dir.length > 0) {
      inventory = copyInventory(inventory, dir, env);
      kept = inventory;
    } else if (c.getBool("keep_inventory_file", false)) {
      kept = inventory = copyInventory(inventory, ".", env);
    }
  }

  let err = galaxy(c, env);
  if (err.length > 0) return fail(err);

  const argv: Array<string> = [command];
  if (b.name.length > 0) {
    argv.push("-e");
    argv.push("packer_build_name=\"" + b.name + "\"");
  }
  argv.push("-e");
  argv.push("packer_builder_type=" + b.builderType);
  const http = genString(g, "PackerHTTPAddr");
  if (http.length > 0) {
    argv.push("-e");
    argv.push("packer_http_addr=" + http);
  }
  if (keyFile.length > 0) {
    argv.push("--ssh-extra-args");
    argv.push("'" + sshExtra.join("' '") + "'");
  }
  const extra = listOf(c, "extra_arguments");
  for (let i = 0; i < extra.length; i++) argv.push(extra[i]);
  if (keyFile.length > 0) {
    argv.push("-e");
    argv.push("ansible_ssh_private_key_file=" + keyFile);
  }
  argv.push("-i");
  argv.push(inventory);
  argv.push(c.getString("playbook_file"));
  Ui.say("Executing Ansible: " + shown(argv, extra, genString(g, "Password")));

  const req = Json.obj().set("argv", Json.strings(argv)).set("env", env).setStr("output", "ui");
  const reply = HostCall.local_exec(req, true);
  if (proxy !== null) proxy.close();
  // The generated inventory goes unless kept (Packer's keep_inventory_file); inventory_directory's copy too.
  if (kept.length > 0 && !c.getBool("keep_inventory_file", false)) runLocal(["rm", "-f", kept], env, "removing the inventory");
  if (isMissingProgram(reply)) return fail(command + " was not found: " + INSTALL_HINT + ".");
  if (reply.has("error")) return fail("Error executing Ansible: " + reply.getString("error"));
  if (reply.has("disconnected")) return fail("Error executing Ansible: stopped: " + reply.getString("disconnected"));
  const status = i32(reply.getNumber("exit_status", -1));
  if (status != 0) {
    const task = failingTask(logPath);
    err = "Error executing Ansible: Non-zero exit status: exit status " + status.toString();
    if (task.length > 0) err += "\nfailed task: " + task;
    return fail(err);
  }
  return ok(Json.obj());
}
