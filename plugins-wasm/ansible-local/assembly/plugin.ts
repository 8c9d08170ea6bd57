// ansible-local provisioner (Packer's): uploads playbooks, roles and variables to a staging folder on
// the machine and runs ansible-playbook there with `-c local`. Everything goes through the build's
// communicator; nothing runs on the imgb host but the upload of the files the template names.
import { abortWith, Build, Comm, Description, Json, Plugin, Prepared, Temp, Ui, fail, mergeConfigs, ok } from "../../sdk/assembly/sdk";

const DEFAULT_COMMAND = "ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook";
const STAGING_PARENT = "/tmp/packer-provisioner-ansible-local";

export function describe(): i32 {
  const d = new Description("provisioner", "ansible-local", "0.1.0")
    .field("command", "string", false, false, "The command that runs ansible-playbook on the machine.")
    .field("extra_arguments", "list(string)", false, false, "More arguments for ansible-playbook (joined with spaces, run by the shell).")
    .field("playbook_file", "string", false, false, "The playbook to upload and run.")
    .field("playbook_files", "list(string)", false, false, "Several playbooks, run in order.")
    .field("playbook_dir", "string", false, false, "A folder uploaded as the staging folder's contents.")
    .field("playbook_paths", "list(string)", false, false, "Folders uploaded under playbooks/.")
    .field("role_paths", "list(string)", false, false, "Role folders uploaded under roles/.")
    .field("group_vars", "string", false, false, "A folder uploaded as group_vars/.")
    .field("host_vars", "string", false, false, "A folder uploaded as host_vars/.")
    .field("inventory_file", "string", false, false, "An inventory to use instead of the generated one.")
    .field("inventory_groups", "list(string)", false, false, "Groups 127.0.0.1 is in in the generated inventory.")
    .field("staging_directory", "string", false, false, "The folder on the machine (default /tmp/packer-provisioner-ansible-local/<random>).")
    .field("clean_staging_directory", "bool", false, false, "Remove the staging folder afterwards.")
    .field("galaxy_file", "string", false, false, "A requirements file installed with ansible-galaxy on the machine first.")
    .field("galaxy_command", "string", false, false, "The ansible-galaxy command (default ansible-galaxy).")
    .field("galaxy_roles_path", "string", false, false, "Where galaxy installs roles (default <staging>/roles).")
    .field("galaxy_collections_path", "string", false, false, "Where galaxy installs collections (default <staging>/collections).")
    .capability("communicator")
    .capability("local_file_read")
    .capability("temp_file");
  return ok(d.toJson());
}

export function prepare(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (c.getString("command").length == 0) c.setStr("command", DEFAULT_COMMAND);
  if (c.getString("galaxy_command").length == 0) c.setStr("galaxy_command", "ansible-galaxy");
  const one = c.getString("playbook_file");
  const many = c.getStringList("playbook_files");
  if (one.length > 0 && many !== null && many.length > 0) p.error("Either playbook_file or playbook_files can be specified, not both");
  if (one.length == 0 && (many === null || many.length == 0)) p.error("Either playbook_file or playbook_files must be specified");
  return p.finish(c);
}

function quoted(s: string): string {
  return "'" + s.replaceAll("'", "'\"'\"'") + "'";
}

function baseName(path: string): string {
  let p = path;
  while (p.length > 1 && p.endsWith("/")) p = p.substring(0, p.length - 1);
  const slash = p.lastIndexOf("/");
  return slash >= 0 ? p.substring(slash + 1) : p;
}

/** Runs a command on the machine with its output on the UI; fails the build on a non-zero status. */
function run(command: string, what: string): void {
  const r = Comm.start(command);
  if (r.disconnected) abortWith(what + ": " + r.reason);
  if (r.exitStatus != 0) abortWith(what + ": Non-zero exit status: " + r.exitStatus.toString());
}

/** Packer's uploadDir: mkdir -p, then the folder's contents (a trailing "/") into dst. */
function uploadDir(dst: string, src: string): void {
  run("mkdir -p " + quoted(dst), "Error creating " + dst);
  Comm.uploadDir(dst, src.endsWith("/") ? src : src + "/", new Array<string>());
}

function stagingDir(c: Json): string {
  const set = c.getString("staging_directory");
  if (set.length > 0) return set;
  const r = Comm.start("mkdir -p " + STAGING_PARENT + " && mktemp -d " + STAGING_PARENT + "/XXXXXXXXXX", false);
  if (r.exitStatus != 0) abortWith("Error creating the staging directory: " + r.stderr);
  return r.stdout.trim();
}

function playbook(command: string, staging: string, file: string, extra: string, inventory: string): void {
  const line = "cd " + staging + " && " + command + " " + file + extra + " -c local -i " + inventory;
  Ui.message("Executing Ansible: " + line);
  const r = Comm.start(line);
  if (r.disconnected) abortWith("Error executing Ansible: " + r.reason);
  if (r.exitStatus == 127) abortWith("Error executing Ansible: " + command + " could not be found. Verify that it is available on the\nPATH after connecting to the machine.");
  if (r.exitStatus != 0) abortWith("Error executing Ansible: Non-zero exit status: " + r.exitStatus.toString());
}

export function provision(): i32 {
  const b = new Build(Plugin.input());
  const c = b.config;
  Ui.say("Provisioning with Ansible...");
  const playbookDir = c.getString("playbook_dir");
  let staging = c.getString("staging_directory");
  if (playbookDir.length > 0) {
    if (staging.length == 0) staging = stagingDir(c);
    Ui.message("Uploading Playbook directory to Ansible staging directory...");
    uploadDir(staging, playbookDir);
  } else {
    Ui.message("Creating Ansible staging directory...");
    staging = stagingDir(c);
    run("mkdir -p " + quoted(staging), "Error creating staging directory");
  }

  const playbooks = new Array<string>();
  const one = c.getString("playbook_file");
  if (one.length > 0) {
    Ui.message("Uploading main Playbook file...");
    playbooks.push(one);
  } else {
    const many = c.getStringList("playbook_files");
    if (many !== null) for (let i = 0; i < many.length; i++) playbooks.push(many[i]);
  }
  for (let i = 0; i < playbooks.length; i++) {
    if (one.length == 0) Ui.message("Uploading playbook file: " + playbooks[i]);
    Comm.uploadFile(staging + "/" + baseName(playbooks[i]), playbooks[i]);
  }

  let inventory = c.getString("inventory_file");
  if (inventory.length == 0) {
    const groups = c.getStringList("inventory_groups");
    let content = "127.0.0.1";
    if (groups !== null && groups.length > 0) {
      content = "";
      for (let i = 0; i < groups.length; i++) content += "[" + groups[i] + "]\n127.0.0.1\n";
    }
    inventory = Temp.file("packer-provisioner-ansible-local", content);
  }
  Ui.message("Uploading inventory file...");
  const remoteInventory = staging + "/" + baseName(inventory);
  Comm.uploadFile(remoteInventory, inventory);

  const galaxy = c.getString("galaxy_file");
  if (galaxy.length > 0) {
    Ui.message("Uploading galaxy file...");
    Comm.uploadFile(staging + "/" + baseName(galaxy), galaxy);
  }
  const groupVars = c.getString("group_vars");
  if (groupVars.length > 0) {
    Ui.message("Uploading group_vars directory...");
    uploadDir(staging + "/group_vars", groupVars);
  }
  const hostVars = c.getString("host_vars");
  if (hostVars.length > 0) {
    Ui.message("Uploading host_vars directory...");
    uploadDir(staging + "/host_vars", hostVars);
  }
  const roles = c.getStringList("role_paths");
  if (roles !== null && roles.length > 0) {
    Ui.message("Uploading role directories...");
    for (let i = 0; i < roles.length; i++) uploadDir(staging + "/roles/" + baseName(roles[i]), roles[i]);
  }
  const paths = c.getStringList("playbook_paths");
  if (paths !== null && paths.length > 0) {
    Ui.message("Uploading additional Playbooks...");
    for (let i = 0; i < paths.length; i++) uploadDir(staging + "/playbooks/" + baseName(paths[i]), paths[i]);
  }

  let extra = " --extra-vars \"packer_build_name=" + b.name + " packer_builder_type=" + b.builderType + "\" ";
  const args = c.getStringList("extra_arguments");
  if (args !== null && args.length > 0) extra += args.join(" ");
  if (galaxy.length > 0) {
    let rolesPath = c.getString("galaxy_roles_path");
    if (rolesPath.length == 0) rolesPath = staging + "/roles";
    const galaxyLine = "cd " + staging + " && " + c.getString("galaxy_command") + " install -r " + staging + "/" + baseName(galaxy) + " -p " + rolesPath;
    Ui.message("Executing Ansible Galaxy: " + galaxyLine);
    run(galaxyLine, "Error executing Ansible Galaxy");
  }
  for (let i = 0; i < playbooks.length; i++) playbook(c.getString("command"), staging, staging + "/" + baseName(playbooks[i]), extra, remoteInventory);

  if (c.getBool("clean_staging_directory", false)) {
    Ui.message("Removing staging directory...");
    run("rm -rf " + quoted(staging), "Error removing staging directory");
  }
  return ok(Json.obj());
}
