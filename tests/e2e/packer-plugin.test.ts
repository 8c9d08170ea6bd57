// Builders served by Packer plugins, through the compiled binary, against Packer 1.6.6 itself:
// `packer plugin packer-builder-NAME` serves each builtin builder over the plugin protocol, so a
// `packer-builder-*` wrapper in PACKER_PLUGIN_PATH is a real legacy plugin. imgb's WASM
// provisioners and post-processors run on what the plugin's builder hands back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { requireBinary, runImgb } from "../support/binary.ts";
import { processAlive } from "../support/processes.ts";
import { podmanBaseImage } from "../support/images.ts";
import { startSshd, type Sshd } from "../support/sshd.ts";

const hasPacker = Bun.which("packer") !== null;
let dir: string;
let plugins: string;
let shim: string;

/** A legacy plugin: a script that records its pid, then becomes the real thing. */
function plugin(name: string, body: string): void {
  const path = join(plugins, `packer-builder-${name}`);
  writeFileSync(path, `#!/bin/sh\necho $$ > ${join(dir, `${name}.pid`)}\n${body}\n`);
  chmodSync(path, 0o755);
}
function multiComponent(folder: string, file: string, minor: string): void {
  Bun.spawnSync(["mkdir", "-p", folder]);
  const describe = JSON.stringify({ version: "1.0.0", sdk_version: "0.0.0", api_version: "x5.0", builders: ["null", "-packer-default-plugin-name-"], post_processors: [], provisioners: [], datasources: [] });
  const script = [
    "#!/bin/sh",
    `case "$1" in describe) echo '${describe}'; exit 0;; start) ;; *) exit 2;; esac`,
    '[ "$2" = builder ] || exit 2',
    'case "$3" in null) b=null;; -packer-default-plugin-name-) b=file;; *) echo "no builder $3" >&2; exit 2;; esac',
    `packer plugin packer-builder-$b | sed -u '1s/^5|/5|${minor}|/'`,
  ].join("\n");
  writeFileSync(join(folder, file), script + "\n");
  chmodSync(join(folder, file), 0o755);
}

const pidOf = (name: string): number => Number(readFileSync(join(dir, `${name}.pid`), "utf8"));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-bridge-"));
  plugins = join(dir, "plugins");
  shim = join(dir, "shim");
  Bun.spawnSync(["mkdir", "-p", plugins, shim]);
  for (const t of ["amazon-ebs", "azure-arm", "googlecompute", "vsphere-iso"]) plugin(t, `exec packer plugin packer-builder-${t}`);
  plugin("pnull", "exec packer plugin packer-builder-null");
  plugin("pdocker", "exec packer plugin packer-builder-docker");
  plugin("crash", 'echo "plugin exploded: no config" >&2; exit 3');
  plugin("oldapi", "echo '4|unix|/nonexistent/socket'; exec sleep 60");
  plugin("hang", `exec ${process.execPath} ${resolve(import.meta.dir, "../support/hanging-plugin.ts")}`);
  // A multi-component plugin as `packer init` installs one. No SDK-built plugin binary can be had
  // here, so this one answers `describe` itself and serves `start builder X` with packer 1.6.6's
  // real RPC server, its handshake line in the SDK's 5.MINOR form.
  multiComponent(join(plugins, "github.com", "acme", "pk"), "packer-plugin-pk_v1.0.0_x5.0_linux_amd64", "0");
  multiComponent(join(plugins, "github.com", "acme", "future"), "packer-plugin-future_v1.0.0_x5.0_linux_amd64", "2");
  // Packer 1.6.6's docker builder runs `docker`; here that is podman.
  writeFileSync(join(shim, "docker"), '#!/bin/sh\nexec podman "$@"\n');
  chmodSync(join(shim, "docker"), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = (extra: Record<string, string> = {}) => ({ PACKER_PLUGIN_PATH: plugins, PATH: `${shim}:${process.env.PATH}`, ...extra });

function write(name: string, template: unknown): string {
  writeFileSync(join(dir, name), JSON.stringify(template));
  return name;
}

describe.skipIf(!hasPacker)("validate through the plugin's Prepare, against packer validate", () => {
  /** The items of packer's error list, whitespace collapsed (packer wraps long ones at 80 columns). */
  const packerErrors = (out: string) =>
    out
      .split(/\n\t?\* /)
      .slice(1)
      .map((item) => item.replace(/\s+/g, " ").trim());
  /** imgb's diagnostics: the text between "Error: " and the source excerpt, whitespace collapsed. */
  const imgbErrors = (out: string) => [...out.matchAll(/^Error: ([\s\S]+?)\n\n  on /gm)].map((m) => m[1]!.replace(/\s+/g, " ").trim());

  const cases: Array<[string, Record<string, unknown>]> = [
    ["amazon-ebs", {}],
    ["amazon-ebs", { ami_name: "x", instance_type: "t3.micro", region: "us-east-1", source_ami: "ami-1", ssh_username: "u", bogus_key: 1 }],
    ["azure-arm", { os_type: "Linux" }],
    ["googlecompute", { project_id: "p" }],
    ["vsphere-iso", { vcenter_server: "vc", username: "u" }],
  ];
  for (const [type, config] of cases) {
    test(`${type} ${JSON.stringify(config)}: the same errors as packer 1.6.6`, async () => {
      const name = write(`v-${type}-${Object.keys(config).length}.json`, { builders: [{ type, ...config }] });
      const packer = Bun.spawnSync(["packer", "validate", name], { cwd: dir, env: { ...process.env, ...env(), CHECKPOINT_DISABLE: "1" } });
      const expected = packerErrors(packer.stdout.toString() + packer.stderr.toString());
      expect(packer.exitCode).toBe(1);
      expect(expected.length).toBeGreaterThan(0);
      const r = await runImgb(["validate", name], { cwd: dir, env: env() });
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(imgbErrors(r.stderr)).toEqual(expected);
      // Prepare's errors point at the builder; an unknown key (caught by the plugin's ConfigSpec
      // before Prepare) at the key itself.
      const text = readFileSync(join(dir, name), "utf8");
      if ("bogus_key" in config) expect(r.stderr).toContain(`on ${name}:1:${text.indexOf('"bogus_key"') + 1}:`);
      else expect(r.stderr).toContain(`in build "${type}"`);
    }, 30_000);
  }

  test("where packer validates, imgb validates (Packer's amazon-ebs fixture, 3 sources)", async () => {
    const ebs = (n: number) => ({ type: "amazon-ebs", name: `ebs-${n}`, ami_name: "packer-test {{timestamp}}", instance_type: "m1.small", region: "us-east-1", ssh_username: "ubuntu", source_ami: "ami-0568456c", tags: { "packer-test": "true" } });
    const name = write("ok.json", { builders: [ebs(1), ebs(2), ebs(3)] });
    const packer = Bun.spawnSync(["packer", "validate", name], { cwd: dir, env: { ...process.env, ...env(), CHECKPOINT_DISABLE: "1" } });
    expect(packer.exitCode, packer.stdout.toString()).toBe(0);
    const r = await runImgb(["validate", name], { cwd: dir, env: env() });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("The configuration is valid.");
  }, 30_000);
});

describe.skipIf(!hasPacker)("HCL2: the plugin's ConfigSpec decodes the source block", () => {
  const source = (extra: string) => `source "amazon-ebs" "one" {
  ami_name      = "img-{{timestamp}}"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami    = "ami-1"
  ssh_username  = "ubuntu"
${extra}  aws_polling {
    delay_seconds = 5
    max_attempts  = 3
  }
  launch_block_device_mappings {
    device_name = "/dev/sda1"
    volume_size = 8
  }
  tags = { Name = "x" }
}
build {
  sources = ["source.amazon-ebs.one"]
}
`;
  const validate = async (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    const packer = Bun.spawnSync(["packer", "validate", name], { cwd: dir, env: { ...process.env, ...env(), CHECKPOINT_DISABLE: "1" } });
    const imgb = await runImgb(["validate", name], { cwd: dir, env: env() });
    return { packer: { code: packer.exitCode, out: packer.stdout.toString() + packer.stderr.toString() }, imgb };
  };

  test("an unknown key is reported where it is, as packer reports it", async () => {
    const r = await validate("bogus.pkr.hcl", source("  bogus_key     = 1\n"));
    expect(r.packer.code).toBe(1);
    expect(r.packer.out).toContain('on bogus.pkr.hcl line 7:');
    expect(r.packer.out).toContain('An argument named "bogus_key" is not expected here.');
    expect(r.imgb.exitCode).toBe(1);
    expect(r.imgb.stderr).toContain("Error: Unsupported argument\n\n  on bogus.pkr.hcl:7:3:");
    expect(r.imgb.stderr).toContain('An argument named "bogus_key" is not expected here.');
  }, 30_000);

  test("a source with blocks and maps validates in both", async () => {
    const r = await validate("ok.pkr.hcl", source(""));
    expect(r.packer.code, r.packer.out).toBe(0);
    expect(r.imgb.exitCode, r.imgb.stderr).toBe(0);
  }, 30_000);

  test("a mistyped value is refused with its position before the plugin runs", async () => {
    const r = await validate("type.pkr.hcl", source('  ami_users     = "not-a-list"\n'));
    expect(r.packer.code).toBe(1);
    expect(r.imgb.exitCode).toBe(1);
    expect(r.imgb.stderr).toContain("on type.pkr.hcl:7:");
    expect(r.imgb.stderr).toContain('Inappropriate value for attribute "ami_users"');
  }, 30_000);
});

describe.skipIf(!hasPacker)("multi-component plugins: describe, start builder NAME, API 5.MINOR", () => {
  test("NAME-COMPONENT builds; NAME is the default component", async () => {
    const r = await runImgb(["build", "-color=false", write("pk.json", { builders: [{ type: "pk-null", communicator: "none" }] })], { cwd: dir, env: env() });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("packer-plugin-pk_v1.0.0_x5.0_linux_amd64 (runs unsandboxed");
    expect(r.stdout).toContain("--> pk-null: Did not export anything. This is the null builder");
    const v = await runImgb(["validate", write("pk-file.json", { builders: [{ type: "pk" }] })], { cwd: dir, env: env() });
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toContain("Error: target required");
  }, 30_000);

  test("a plugin declaring an API minor this imgb does not speak is refused by name", async () => {
    const r = await runImgb(["validate", write("future.json", { builders: [{ type: "future-null" }] })], { cwd: dir, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("packer-plugin-future_v1.0.0_x5.0_linux_amd64: speaks plugin API 5.2, imgb speaks 5.0 and 5.1");
  }, 30_000);
});

describe("plugins that misbehave: a clear error naming the binary, the process killed", () => {
  test("a plugin that exits before its handshake", async () => {
    const r = await runImgb(["validate", write("crash.json", { builders: [{ type: "crash" }] })], { cwd: dir, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`plugin ${join(plugins, "packer-builder-crash")}: exited with status 3: plugin exploded: no config`);
    expect(r.stderr).not.toContain("    at ");
  });

  test("a plugin that speaks another protocol version", async () => {
    const r = await runImgb(["validate", write("old.json", { builders: [{ type: "oldapi" }] })], { cwd: dir, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`plugin ${join(plugins, "packer-builder-oldapi")}: speaks plugin API 4, imgb speaks 5.0 and 5.1`);
    expect(processAlive(pidOf("oldapi"))).toBe(false);
  });

  test("a plugin that hangs in Prepare (and ignores SIGTERM)", async () => {
    const started = performance.now();
    const r = await runImgb(["validate", write("hang.json", { builders: [{ type: "hang" }] })], {
      cwd: dir,
      env: env({ IMGB_PLUGIN_PREPARE_TIMEOUT_MS: "1500", IMGB_TEST_PID_FILE: join(dir, "hang.pid") }),
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`plugin ${join(plugins, "packer-builder-hang")}: Prepare did not answer within 2 s; the plugin is killed`);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(processAlive(pidOf("hang"))).toBe(false);
  }, 20_000);

  test("Ctrl-C while a plugin is starting (it ignores SIGINT and SIGTERM): validate and build end at once, cancelled, the plugin and its child killed", async () => {
    // The plugin never prints its address; before this was trapped, validate waited the 60 s start
    // timeout and build died at once leaving the plugin running.
    plugin("deaf", `trap '' INT TERM\nsleep 300 &\necho $! > ${join(dir, "deaf-child.pid")}\nwait`);
    const template = write("deaf.json", { builders: [{ type: "deaf" }] });
    for (const verb of ["validate", "build"]) {
      rmSync(join(dir, "deaf.pid"), { force: true });
      rmSync(join(dir, "deaf-child.pid"), { force: true });
      const proc = Bun.spawn([requireBinary(), verb, template], { cwd: dir, env: { ...process.env, ...env() }, stdout: "pipe", stderr: "pipe" });
      for (const until = Date.now() + 20_000; !existsSync(join(dir, "deaf-child.pid")) && Date.now() < until; ) await Bun.sleep(50);
      const started = performance.now();
      proc.kill("SIGINT");
      const code = await proc.exited;
      const stderr = await new Response(proc.stderr).text();
      expect({ verb, code, stderr: stderr.trim().split("\n").at(-1) }).toEqual({ verb, code: 1, stderr: `Error: ${verb} cancelled: received interrupt`.replace("validate cancelled", "validation cancelled") });
      expect(performance.now() - started).toBeLessThan(5_000);
      for (const pid of [pidOf("deaf"), Number(readFileSync(join(dir, "deaf-child.pid"), "utf8"))]) {
        for (const until = Date.now() + 3_000; processAlive(pid) && Date.now() < until; ) await Bun.sleep(50);
        expect({ verb, pid, alive: processAlive(pid) }).toEqual({ verb, pid, alive: false });
      }
    }
  }, 60_000);

  test("an unknown type with no plugin is still an unknown builder", async () => {
    const r = await runImgb(["validate", write("none.json", { builders: [{ type: "no-such-builder" }] })], { cwd: dir, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Unknown builder no-such-builder");
  });
});

describe.skipIf(!hasPacker)("builds through packer 1.6.6's builders", () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  test("null over SSH: WASM shell and file provisioners on the bridged communicator, then a post-processor", async () => {
    writeFileSync(join(dir, "payload.txt"), "payload through the bridge\n");
    const remote = `${sshd.remoteDir}/payload.txt`;
    // Larger than yamux's 256 KiB stream window many times over, both ways.
    const big = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    writeFileSync(join(dir, "big.bin"), big);
    const name = write("null.json", {
      builders: [{ type: "pnull", communicator: "ssh", ssh_host: "127.0.0.1", ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.clientKeyPath }],
      provisioners: [
        { type: "shell", inline: ["echo remote user is $(id -un)", "echo to stderr >&2", "echo generated {{ build `Host` }}:{{ build `Port` }} as {{ build `User` }}"] },
        { type: "file", source: "payload.txt", destination: remote },
        { type: "shell", inline: [`sed -i s/payload/changed/ ${remote}`] },
        { type: "file", source: remote, destination: "back.txt", direction: "download" },
        { type: "file", source: "big.bin", destination: `${sshd.remoteDir}/big.bin` },
        { type: "file", source: `${sshd.remoteDir}/big.bin`, destination: "big-back.bin", direction: "download" },
      ],
      "post-processors": [{ type: "manifest", output: "manifest.json" }],
    });
    const r = await runImgb(["build", "-color=false", name], { cwd: dir, env: env(), timeoutMs: 60_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`native Packer plugin ${join(plugins, "packer-builder-pnull")} (runs unsandboxed`);
    expect(r.stdout).toContain("pnull: Connected to SSH!");
    expect(r.stdout).toContain(`    pnull: remote user is ${sshd.user}`);
    // The builder's generated data, handed over with the provisioning hook, is `build.*`.
    expect(r.stdout).toContain(`    pnull: generated 127.0.0.1:${sshd.port} as ${sshd.user}`);
    expect(r.stdout + r.stderr).toContain("to stderr");
    expect(readFileSync(join(dir, "back.txt"), "utf8")).toBe("changed through the bridge\n");
    const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    expect(digest(readFileSync(`${sshd.remoteDir}/big.bin`))).toBe(digest(big));
    expect(digest(readFileSync(join(dir, "big-back.bin")))).toBe(digest(big));
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest.builds[0].artifact_id).toBe("Null");
    expect(r.stdout).toContain("--> pnull: Did not export anything. This is the null builder");
    expect(processAlive(pidOf("pnull"))).toBe(false);
  }, 60_000);

  test("a failing provisioner fails the build with its own error; the error-cleanup-provisioner runs through the plugin's cleanup hook; the plugin is gone", async () => {
    const marker = `${sshd.remoteDir}/cleaned-up`;
    const name = write("null-fail.json", {
      builders: [{ type: "pnull", communicator: "ssh", ssh_host: "127.0.0.1", ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.clientKeyPath }],
      provisioners: [{ type: "shell", inline: ["exit 7"] }],
      "error-cleanup-provisioner": { type: "shell", inline: [`echo cleaned > ${marker}`] },
    });
    const r = await runImgb(["build", "-color=false", name], { cwd: dir, env: env(), timeoutMs: 60_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toContain("Build 'pnull' errored after");
    expect(r.stdout + r.stderr).toContain("non-zero exit status: 7");
    expect(readFileSync(marker, "utf8")).toBe("cleaned\n");
    expect(processAlive(pidOf("pnull"))).toBe(false);
  }, 60_000);

  test("a plugin that dies mid-build: the build fails naming the binary and how it ended", async () => {
    const name = write("null-die.json", {
      builders: [{ type: "pnull", communicator: "ssh", ssh_host: "127.0.0.1", ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.clientKeyPath }],
      provisioners: [{ type: "shell", inline: ["echo about-to-sleep", "sleep 60"] }],
    });
    const proc = Bun.spawn([requireBinary(), "build", "-color=false", name], { cwd: dir, env: { ...process.env, ...env() }, stdout: "pipe", stderr: "pipe" });
    let out = "";
    let sleeping!: () => void;
    const reached = new Promise<void>((r) => (sleeping = r));
    const drained = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) {
        out += decoder.decode(chunk, { stream: true });
        if (out.includes("about-to-sleep")) sleeping();
      }
    })();
    await Promise.race([reached, drained]);
    process.kill(pidOf("pnull"), "SIGKILL");
    const code = await proc.exited;
    await drained;
    expect(code, out).toBe(1);
    expect(out).toContain(`plugin ${join(plugins, "packer-builder-pnull")}: was killed by SIGKILL`);
  }, 60_000);

  const runCommand = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000", "-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"];
  /** The container the plugin reported starting no longer exists (other suites may run containers too). */
  const containerGone = (out: string) => {
    const id = /Container ID: ([0-9a-f]{12,})/.exec(out)?.[1];
    expect(id, out).toBeDefined();
    return Bun.spawnSync(["podman", "container", "exists", id!]).exitCode === 1;
  };

  test("docker on podman: provisioned through the bridge, exported, checksummed by a WASM post-processor", async () => {
    const image = await podmanBaseImage();
    const name = write("docker.json", {
      builders: [{ type: "pdocker", image, pull: false, export_path: "fs.tar", run_command: runCommand }],
      provisioners: [
        { type: "shell", inline: ["echo via-bridge > /marker"] },
        { type: "file", content: "uploaded", destination: "/uploaded.txt" },
      ],
      "post-processors": [{ type: "checksum", checksum_types: ["sha256"], output: "fs.{{.ChecksumType}}" }],
    });
    const r = await runImgb(["build", "-color=false", name], { cwd: dir, env: env(), timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("pdocker: Exported Docker file: fs.tar");
    const tar = (member: string) => Bun.spawnSync(["tar", "-xOf", join(dir, "fs.tar"), member]).stdout.toString();
    expect(tar("marker")).toBe("via-bridge\n");
    expect(tar("uploaded.txt")).toBe("uploaded");
    const sum = Bun.spawnSync(["sha256sum", join(dir, "fs.tar")]).stdout.toString().split(" ")[0];
    expect(readFileSync(join(dir, "fs.sha256"), "utf8")).toContain(sum!);
    expect(containerGone(r.stdout)).toBe(true);
    expect(processAlive(pidOf("pdocker"))).toBe(false);
  }, 180_000);

  test("Ctrl-C mid-build cancels the plugin, which removes its container; nothing is left running", async () => {
    const image = await podmanBaseImage();
    const name = write("docker-int.json", {
      builders: [{ type: "pdocker", image, pull: false, discard: true, run_command: runCommand }],
      provisioners: [{ type: "shell", inline: ["echo sleeping-now", "sleep 120"] }],
    });
    const proc = Bun.spawn([requireBinary(), "build", "-color=false", name], { cwd: dir, env: { ...process.env, ...env() }, stdout: "pipe", stderr: "pipe" });
    let out = "";
    let reachedNow!: () => void;
    const reachedSignal = new Promise<boolean>((r) => (reachedNow = () => r(true)));
    const drained = (async () => {
      let hit = false;
      for await (const chunk of proc.stdout) {
        out += new TextDecoder().decode(chunk);
        if (!hit && out.includes("sleeping-now")) {
          hit = true;
          reachedNow();
        }
      }
      return hit;
    })();
    const reached = await Promise.race([reachedSignal, drained, Bun.sleep(90_000).then(() => false)]);
    if (!reached) proc.kill("SIGKILL");
    expect(reached, out).toBe(true);
    const plugin = pidOf("pdocker");
    expect(processAlive(plugin)).toBe(true);
    proc.kill("SIGINT");
    const t0 = performance.now();
    const code = await proc.exited;
    await drained;
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(code, out).toBe(1);
    expect(out).toContain("Cleanly cancelled builds after being interrupted.");
    expect(processAlive(plugin)).toBe(false);
    expect(containerGone(out)).toBe(true);
  }, 150_000);
});
