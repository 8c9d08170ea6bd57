// vagrant post-processor (Packer's, github.com/hashicorp/vagrant): turns a machine artifact into a
// Vagrant box, a tar (gzip unless compression_level = 0) of metadata.json, a Vagrantfile and the
// provider's files. Providers: libvirt for qemu disks (and, beyond Packer, the disk images of the
// rootfs builder or any artifact with provider_override = "libvirt"), docker for container images.
// The archive is streamed by the host (compress_files): the disk is never copied or buffered; it goes
// into the box under the name vagrant-libvirt expects, box.img.
import { abortWith, ArtifactInfo, HostCall, Artifacts, Description, Json, Local, Plugin, PostProcessInput, Prepared, Temp, Template, Ui, fail, mergeConfigs, ok, postProcessed } from "../../sdk/assembly/sdk";

const BUILDER_ID = "mitchellh.post-processor.vagrant";
const DEFAULT_OUTPUT = "packer_{{ .BuildName }}_{{.Provider}}.box";

export function describe(): i32 {
  const d = new Description("post-processor", "vagrant", "0.1.0")
    .field("compression_level", "number", false, false, "gzip level 0-9 (0: an uncompressed tar); default 6.")
    .field("include", "list(string)", false, false, "More files to put in the box.")
    .field("keep_input_artifact", "bool", false, false, "Keep the input artifact.")
    .field("output", "string", false, true, "The box's path ({{ .Provider }}, {{ .BuildName }}, {{ .ArtifactId }}).")
    .field("vagrantfile_template", "string", false, false, "A file whose contents are appended to the box's Vagrantfile.")
    .field("vagrantfile_template_generated", "bool", false, false, "The Vagrantfile template is made during the build.")
    .field("provider_override", "string", false, false, "The provider when the artifact does not say (libvirt, docker).")
    .field("architecture", "string", false, false, "The box's architecture in metadata.json (e.g. amd64).")
    .capability("artifact_read")
    .capability("artifact_write")
    .capability("local_file_read")
    .capability("temp_file");
  return ok(d.toJson());
}

export function configure(): i32 {
  const p = new Prepared();
  const c = mergeConfigs(Plugin.input());
  if (!c.has("compression_level")) c.setNum("compression_level", 6);
  const level = c.getNumber("compression_level", 6);
  if (level < 0 || level > 9 || level != Math.floor(level)) p.error("compression_level must be an integer from 0 to 9");
  if (c.getString("output").length == 0) c.setStr("output", DEFAULT_OUTPUT);
  const po = c.getString("provider_override");
  if (po.length > 0 && po != "libvirt" && po != "docker") {
    p.error("provider_override must be one of libvirt, docker (the providers of the artifacts imgb builds), not " + po);
  }
  return p.finish(c);
}

/** Packer's builtin provider for each builder id (only those imgb builds), plus imgb's rootfs. */
function providerFor(builderId: string): string {
  if (builderId == "transcend.qemu" || builderId == "imgb.rootfs") return "libvirt";
  if (builderId == "packer.post-processor.docker-import" || builderId == "packer.post-processor.docker-tag") return "docker";
  return "";
}

function endsWithAny(path: string, suffixes: Array<string>): bool {
  for (let i = 0; i < suffixes.length; i++) if (path.endsWith(suffixes[i])) return true;
  return false;
}

/** The artifact's disk: qemu names it by diskName; otherwise the one .qcow2/.img/.raw file. */
function diskOf(a: ArtifactInfo): string {
  const name = a.state.getString("diskName");
  if (name.length > 0) {
    for (let i = 0; i < a.files.length; i++) if (a.files[i].endsWith("/" + name) || a.files[i] == name) return a.files[i];
  }
  const disks = new Array<string>();
  for (let i = 0; i < a.files.length; i++) if (endsWithAny(a.files[i], [".qcow2", ".img", ".raw"])) disks.push(a.files[i]);
  if (disks.length == 1) return disks[0];
  if (disks.length == 0) abortWith("the artifact has no disk image (.qcow2, .img or .raw) for the libvirt provider: " + a.files.join(", "));
  abortWith("the artifact has several disk images, the libvirt box takes one: " + disks.join(", "));
  return "";
}

/** Format and virtual size (GiB, rounded up, as Packer's) from the disk's own header. */
function diskFacts(path: string): Json {
  const head = Artifacts.read(path, 0, 32);
  const d = head.data;
  let format = "raw";
  let bytes = head.size;
  if (d.length >= 32 && d[0] == 0x51 && d[1] == 0x46 && d[2] == 0x49 && d[3] == 0xfb) {
    format = "qcow2";
    bytes = 0;
    for (let i = 24; i < 32; i++) bytes = bytes * 256 + f64(d[i]);
  }
  const gib = Math.ceil(bytes / 1073741824);
  return Json.obj().setStr("format", format).setNum("virtual_size", gib < 1 ? 1 : gib);
}

function libvirtVagrantfile(driver: string): string {
  return '\nVagrant.configure("2") do |config|\n  config.vm.provider :libvirt do |libvirt|\n    libvirt.driver = "' + driver + '"\n  end\nend\n';
}

function dockerVagrantfile(image: string): string {
  return '\nVagrant.configure("2") do |config|\n\tconfig.vm.provider :docker do |docker, override|\n\t\toverride.vm.box = nil\n\t\tdocker.image = "' + image + '"\n\tend\nend\n';
}

export function post_process(): i32 {
  const input = new PostProcessInput(Plugin.input());
  const a = input.artifact;
  const c = input.config;
  let provider = c.getString("provider_override");
  if (provider.length == 0) provider = providerFor(a.builderId);
  if (provider.length == 0) {
    return fail("Unknown artifact type, can't build box: " + a.builderId + " (set provider_override = \"libvirt\" for an artifact with a disk image)");
  }
  const data = Json.obj().setStr("Provider", provider).setStr("BuildName", input.name).setStr("ArtifactId", a.id);
  const output = Template.render(c.getString("output"), data);
  Ui.say("Creating a Vagrant box for '" + provider + "' provider");

  // metadata.json as Go's json.Marshal writes Packer's map: keys sorted, no spaces.
  const metadata = Json.obj();
  const arch = c.getString("architecture");
  let providerVagrantfile = "";
  const inputs = new Array<string>();
  const names = new Array<string>();
  if (provider == "libvirt") {
    const disk = diskOf(a);
    const facts = diskFacts(disk);
    if (arch.length > 0) metadata.setStr("architecture", arch);
    metadata.setStr("format", facts.getString("format"));
    metadata.setStr("provider", "libvirt");
    metadata.setNum("virtual_size", facts.getNumber("virtual_size"));
    const domain = a.state.getString("domainType", "kvm");
    // Packer maps qemu's accelerator to the libvirt driver: kvm stays kvm, everything else is qemu.
    providerVagrantfile = libvirtVagrantfile(domain == "kvm" ? "kvm" : "qemu");
    Ui.message("Copying from artifact: " + disk);
    inputs.push(disk);
    names.push("box.img");
  } else {
    if (arch.length > 0) metadata.setStr("architecture", arch);
    metadata.setStr("provider", "docker");
    providerVagrantfile = dockerVagrantfile(a.id);
  }

  let custom = "";
  const tpl = c.getString("vagrantfile_template");
  if (tpl.length > 0) {
    Ui.message("Using custom Vagrantfile: " + tpl);
    custom = String.UTF8.decode(Local.readFile(tpl).buffer);
  }
  const vagrantfile =
    "\n# The contents below were provided by the Packer Vagrant post-processor\n" +
    providerVagrantfile +
    "\n\n# The contents below (if any) are custom contents provided by the\n# Packer template during image build.\n" +
    custom +
    "\n";
  inputs.unshift(Temp.file("imgb-vagrantfile", vagrantfile, 0o644));
  names.unshift("Vagrantfile");
  inputs.unshift(Temp.file("imgb-metadata", metadata.stringify(), 0o644));
  names.unshift("metadata.json");
  const include = c.getStringList("include");
  if (include !== null) {
    for (let i = 0; i < include.length; i++) {
      Ui.message("Copying from include: " + include[i]);
      inputs.push(include[i]);
      const slash = include[i].lastIndexOf("/");
      names.push(slash >= 0 ? include[i].substring(slash + 1) : include[i]);
    }
  }

  const level = i32(c.getNumber("compression_level", 6));
  Ui.message("Compressing: Vagrantfile, metadata.json" + (provider == "libvirt" ? ", box.img" : ""));
  const req = Json.obj()
    .set("inputs", Json.strings(inputs))
    .set("names", Json.strings(names))
    .setStr("output", output)
    .setStr("archive", "tar")
    .setStr("compression", level == 0 ? "none" : "gzip")
    .setNum("level", level)
    .setStr("progress", "Compressing " + output);
  HostCall.compress_files(req);

  const out = new ArtifactInfo();
  out.builderId = BUILDER_ID;
  out.id = provider;
  out.files = [output];
  out.description = "'" + provider + "' provider box: " + output;
  // A container image is not a file a box replaces: Packer keeps it.
  return postProcessed(out, provider == "docker" || c.getBool("keep_input_artifact", false), false);
}
