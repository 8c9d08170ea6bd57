// The shell provisioner (plugins-wasm/shell, real wasm in the sandbox) against a real OpenSSH server
// through the real SSH communicator. The server runs on this machine, so its files are checked by
// running commands over a second session or by reading them here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localCommunicator } from "../../core/communicator/local.ts";
import { startSshd } from "../support/sshd.ts";
import { Rig, never } from "./support.ts";

const rig = new Rig();
let remote: string;

beforeAll(async () => {
  await rig.start();
  remote = rig.sshd.remoteDir;
}, 120_000);
afterAll(() => rig.stop());

/** Lines the remote command printed (stdout "message: ", stderr "error: "). */
const remoteBytes = async (path: string) => Buffer.from((await rig.comm.download(path, { kind: "bytes" }, never()))!).toString("latin1");
const output = (lines: string[]) => lines.filter((l) => l.startsWith("message: ") || l.startsWith("error: "));

describe("shell: describe and prepare", () => {
  test("describe declares Packer's keys, a late execute_command and only the capabilities it uses", async () => {
    const d = await rig.catalog.describe("provisioner", "shell");
    expect(d.capabilities.sort()).toEqual(["communicator", "local_file_read", "temp_file"]);
    const names = d.schema.fields.map((f) => f.name);
    for (const k of [
      "inline", "script", "scripts", "binary", "environment_vars", "env", "env_var_format", "use_env_var_file", "execute_command",
      "inline_shebang", "remote_folder", "remote_file", "remote_path", "skip_clean", "expect_disconnect", "valid_exit_codes",
      "start_retry_timeout", "pause_after",
    ]) expect(names).toContain(k);
    expect(d.schema.fields.find((f) => f.name === "execute_command")?.late).toBe(true);
  });

  test("prepare fills Packer's defaults, with a random script_NNNN.sh in /tmp", async () => {
    const p = await rig.catalog.provisioner("shell");
    const r = await p.prepare([{ inline: ["echo a"] }]);
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toMatchObject({
      execute_command: "chmod +x {{.Path}}; {{.Vars}} {{.Path}}",
      env_var_format: "%s='%s' ",
      inline_shebang: "/bin/sh -e",
      remote_folder: "/tmp",
      start_retry_timeout: "5m",
      valid_exit_codes: [0],
    });
    expect(r.config.remote_file).toMatch(/^script_\d{1,4}\.sh$/);
    expect(r.config.remote_path).toBe(`/tmp/${r.config.remote_file}`);
    const names = new Set<string>();
    for (let i = 0; i < 5; i++) names.add((await p.prepare([{ inline: ["true"] }])).config.remote_file as string);
    expect(names.size).toBeGreaterThan(1);
    const withFile = await p.prepare([{ inline: ["true"], use_env_var_file: true, remote_folder: "/var/tmp", remote_file: "x.sh" }]);
    expect(withFile.config).toMatchObject({
      execute_command: "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}",
      env_var_format: "export %s='%s'\n",
      remote_path: "/var/tmp/x.sh",
    });
    await p.close();
  });

  test("config errors are diagnostics that name the keys", async () => {
    expect(await rig.prepareErrors("shell", {})).toEqual(["Either a script file or inline script must be specified (set inline, script or scripts)."]);
    expect(await rig.prepareErrors("shell", { inline: [] })).toEqual(["Either a script file or inline script must be specified (set inline, script or scripts)."]);
    expect(await rig.prepareErrors("shell", { inline: ["true"], script: "a.sh" })).toEqual([
      "Only a script file or an inline script can be specified, not both (inline with script/scripts).",
    ]);
    expect(await rig.prepareErrors("shell", { script: "a.sh", scripts: ["b.sh"] })).toEqual(["Only one of script or scripts can be specified."]);
    expect(await rig.prepareErrors("shell", { inline: ["true"], environment_vars: ["=x", "NOEQUALS", "OK=1"] })).toEqual([
      "Environment variable not in format 'key=value': =x (environment_vars)",
      "Environment variable not in format 'key=value': NOEQUALS (environment_vars)",
    ]);
    expect(await rig.prepareErrors("shell", { inline: ["true"], pause_after: "soon", start_retry_timeout: "5 minutes" })).toEqual([
      'start_retry_timeout: invalid duration "5 minutes" (use Go\'s form, e.g. "30s", "5m", "1h10m")',
      'pause_after: invalid duration "soon" (use Go\'s form, e.g. "30s", "5m", "1h10m")',
    ]);
    // Wrong types and unknown keys are caught from the declared schema before the plugin runs.
    expect(await rig.prepareErrors("shell", { inline: { a: "b" }, expect_disconnect: "maybe", bogus: 1 })).toEqual([
      "'inline[0]' expected type 'string', got unconvertible type 'map[string]interface {}'",
      `cannot parse 'expect_disconnect' as bool: strconv.ParseBool: parsing "maybe": invalid syntax`,
      `unknown configuration key: '"bogus"'`,
    ]);
  });
});

describe("shell over SSH", () => {
  test("inline: one #!/bin/sh -e script uploaded to remote_path, run with PACKER_* vars, output to the UI, then removed", async () => {
    const path = `${remote}/inline.sh`;
    const r = await rig.run("shell", {
      inline: ['head -n 1 "$0"', 'echo "path=$0 name=$PACKER_BUILD_NAME type=$PACKER_BUILDER_TYPE"', "echo to-stderr >&2", "stat -c %a \"$0\""],
      remote_path: path,
    });
    expect(r.error).toBeNull();
    expect(r.lines[0]).toMatch(/^say: Provisioning with shell script: \/tmp\/packer-shell\d+$/);
    expect(output(r.lines)).toEqual(["message: #!/bin/sh -e", `message: path=${path} name=ssh type=null`, "error: to-stderr", "message: 755"]);
    expect(existsSync(path)).toBe(false);
    // Packer's local copy of the inline script is gone too.
    expect(existsSync(r.lines[0]!.slice("say: Provisioning with shell script: ".length))).toBe(false);
  });

  test("-e stops at the first failing line; exit codes outside valid_exit_codes are Packer's error", async () => {
    const failed = await rig.run("shell", { inline: ["echo one", "sh -c 'exit 3'", "echo never"], remote_folder: remote });
    expect(failed.error).toBe("plugin shell: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]");
    expect(output(failed.lines)).toEqual(["message: one"]);
    expect((await rig.run("shell", { inline: ["exit 3"], valid_exit_codes: [0, 3], remote_folder: remote })).error).toBeNull();
    const listed = await rig.run("shell", { inline: ["exit 4"], valid_exit_codes: [0, 3], remote_folder: remote });
    expect(listed.error).toBe("plugin shell: Script exited with non-zero exit status: 4.Allowed exit codes are: [0 3]");
    // As in Packer, a failed script is not cleaned up: it stays on the machine.
    expect(await rig.remote(`ls ${remote}`)).toContain("script_");
    await rig.remote(`rm -f ${remote}/script_*`);
  });

  test("environment variables keep spaces, quotes and '=' (Packer's quoting table); env overrides environment_vars", async () => {
    const r = await rig.run("shell", {
      environment_vars: ["FOO=foo", "BAR=bar's", "BAZ=baz=baz", "QUX==qux", "FOOBAR=foo bar", "FOOBARBAZ='foo bar baz'", 'QUX2="qux"', "DUP=from-list"],
      env: { DUP: "from env", DOLLAR: "$HOME `id` \\n" },
      inline: ["for v in FOO BAR BAZ QUX FOOBAR FOOBARBAZ QUX2 DUP DOLLAR; do eval \"val=\\\"\\$$v\\\"\"; printf '%s is %s\\n' \"$v\" \"$val\"; done"],
      remote_folder: remote,
    });
    expect(r.error).toBeNull();
    expect(output(r.lines)).toEqual([
      "message: FOO is foo",
      "message: BAR is bar's",
      "message: BAZ is baz=baz",
      "message: QUX is =qux",
      "message: FOOBAR is foo bar",
      "message: FOOBARBAZ is 'foo bar baz'",
      'message: QUX2 is "qux"',
      "message: DUP is from env",
      "message: DOLLAR is $HOME `id` \\n",
    ]);
  });

  test("script and scripts run in order from the template folder; CRLF becomes LF unless binary", async () => {
    const a = join(rig.templateDir, "a.sh");
    const b = join(rig.templateDir, "b.sh");
    writeFileSync(a, "#!/bin/sh\r\necho \"a:$X\"\r\nprintf 'last'");
    writeFileSync(b, '#!/bin/sh\necho "b:$X"\n');
    const r = await rig.run("shell", { scripts: [a, b], environment_vars: ["X=1"], remote_folder: remote });
    expect(r.error).toBeNull();
    expect(r.lines).toEqual([`say: Provisioning with shell script: ${a}`, "message: a:1", "message: last", `say: Provisioning with shell script: ${b}`, "message: b:1"]);

    const kept = `${remote}/kept.sh`;
    await rig.run("shell", { script: a, remote_path: kept, skip_clean: true });
    expect(await remoteBytes(kept)).toBe('#!/bin/sh\necho "a:$X"\nprintf \'last\'\n');
    await rig.run("shell", { script: a, remote_path: kept, skip_clean: true, binary: true, execute_command: "true" });
    expect(await remoteBytes(kept)).toBe('#!/bin/sh\r\necho "a:$X"\r\nprintf \'last\'');
    await rig.remote(`rm -f ${kept}`);
  });

  test("a missing script fails before any script runs; a script outside the granted folders is refused", async () => {
    const ok = join(rig.templateDir, "ok.sh");
    writeFileSync(ok, `touch ${remote}/ran\n`);
    const r = await rig.run("shell", { scripts: [ok, join(rig.templateDir, "missing.sh")], remote_folder: remote });
    expect(r.error).toBe(`plugin shell: Bad script '${join(rig.templateDir, "missing.sh")}': no such file or directory`);
    expect(existsSync(`${remote}/ran`)).toBe(false);
    const outside = await rig.run("shell", { script: "/etc/hostname", remote_folder: remote });
    expect(outside.error).toStartWith('plugin shell: capability local_file_read refused for "/etc/hostname": outside the template directory and the working directory');
  });

  test("execute_command variants: {{.Vars}} and {{.Path}} rendered by the plugin, env-style and sh -c", async () => {
    const values = ["A=a b", "B=it's"];
    const viaEnv = await rig.run("shell", {
      inline: ['echo "$A|$B|$0"'],
      environment_vars: values,
      remote_path: `${remote}/e.sh`,
      execute_command: "chmod +x {{ .Path }}; env {{ .Vars }} {{ .Path }}",
    });
    expect(output(viaEnv.lines)).toEqual([`message: a b|it's|${remote}/e.sh`]);
    const viaSh = await rig.run("shell", {
      inline: ['echo "$A|$0"'],
      environment_vars: ["A=plain"],
      remote_path: `${remote}/s.sh`,
      execute_command: "sh -c '{{ .Vars }} sh {{ .Path }}'",
    });
    expect(viaSh.error).toBeNull();
    expect(output(viaSh.lines)).toEqual([`message: plain|${remote}/s.sh`]);
    // The build's generated values are there too (Packer passes generatedData to the template).
    const gen = await rig.run("shell", { inline: ["true"], remote_path: `${remote}/g.sh`, execute_command: "echo {{.Path}} {{ build_name }}" });
    // {{build_name}} is Packer's packer_build_name: the source's name ("ssh"), not the build's "null.ssh".
    expect(output(gen.lines)).toEqual([`message: ${remote}/g.sh ssh`]);
    const broken = await rig.run("shell", { inline: ["true"], remote_folder: remote, execute_command: "{{ .Path" });
    expect(broken.error).toStartWith("plugin shell: Error processing command: template_render: ");
  });

  test("use_env_var_file: the variables go to a 0600 file in remote_folder that the script sources; both are removed", async () => {
    const r = await rig.run("shell", {
      inline: ['echo "V=$V"', 'echo "file=$(ls ' + remote + ' | grep varfile_)"'],
      environment_vars: ["V=with 'quotes' and spaces"],
      use_env_var_file: true,
      remote_folder: remote,
    });
    expect(r.error).toBeNull();
    expect(output(r.lines)[0]).toBe("message: V=with 'quotes' and spaces");
    expect(output(r.lines)[1]).toMatch(/^message: file=varfile_\d{1,4}\.sh$/);
    expect((await rig.remote(`ls -A ${remote}`)).trim()).toBe("");

    const kept = await rig.run("shell", {
      inline: ["true"],
      environment_vars: ["V=1"],
      use_env_var_file: true,
      skip_clean: true,
      remote_folder: remote,
      remote_file: "kept.sh",
    });
    expect(kept.error).toBeNull();
    const files = (await rig.remote(`cd ${remote} && stat -c '%n %a' *`)).trim().split("\n").sort();
    expect(files[0]).toBe("kept.sh 755");
    expect(files[1]).toMatch(/^varfile_\d{1,4}\.sh 600$/);
    const varfile = files[1]!.split(" ")[0];
    expect(await rig.remote(`cat ${remote}/${varfile}`)).toBe("export PACKER_BUILDER_TYPE='null'\nexport PACKER_BUILD_NAME='ssh'\nexport V='1'\n");
    await rig.remote(`rm -f ${remote}/*`);
  });

  test("skip_clean leaves the script on the machine (inline lines lose a \\r before the newline, as in Packer)", async () => {
    const r = await rig.run("shell", { inline: ["echo kept\r", "true"], remote_path: `${remote}/skip.sh`, skip_clean: true });
    expect(r.error).toBeNull();
    expect(await rig.remote(`cat ${remote}/skip.sh`)).toBe("#!/bin/sh -e\necho kept\ntrue\n");
    await rig.remote(`rm -f ${remote}/skip.sh`);
  });

  // The script kills its own SSH session (the first sshd process above it): the connection drops
  // before an exit status arrives, as when a machine reboots.
  const dropConnection = 'p=$$; while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm)" in sshd*) kill -9 "$p"; exit 0;; esac; p=$(cut -d" " -f4 /proc/$p/stat); done';

  test("a dropped connection is an error unless expect_disconnect; then cleanup reconnects and removes the script", async () => {
    const comm = await rig.connect();
    try {
      const unexpected = await rig.run("shell", { inline: ["echo before", dropConnection], remote_path: `${remote}/d1.sh` }, { communicator: comm });
      expect(output(unexpected.lines)).toContain("message: before");
      expect(unexpected.error).toBe(
        'plugin shell: Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, you can try adding `"expect_disconnect": true` or `"valid_exit_codes": [0, 2300218]` to the shell provisioner parameters.',
      );
      const expected = await rig.run("shell", { inline: [dropConnection], remote_path: `${remote}/d2.sh`, expect_disconnect: true }, { communicator: comm });
      expect(expected.error).toBeNull();
      expect(existsSync(`${remote}/d2.sh`)).toBe(false);
      // What Packer's message suggests works too: 2300218 (Packer's "disconnected" status) as a valid exit code.
      const byCode = await rig.run("shell", { inline: [dropConnection], remote_path: `${remote}/d3.sh`, valid_exit_codes: [0, 2300218] }, { communicator: comm });
      expect(byCode.error).toBeNull();
      // The same communicator goes on working for the next provisioner.
      const after = await rig.run("shell", { inline: ["echo still here"], remote_folder: remote }, { communicator: comm });
      expect(output(after.lines)).toEqual(["message: still here"]);
      await rig.remote(`rm -f ${remote}/d1.sh`);
    } finally {
      await comm.close();
    }
  }, 60_000);

  test("pause_after waits after the scripts, saying so as Packer does", async () => {
    const started = performance.now();
    const r = await rig.run("shell", { inline: ["true"], remote_folder: remote, pause_after: "1.2s" });
    expect(r.error).toBeNull();
    expect(r.lines.at(-1)).toBe("say: Pausing 1.2s after this provisioner...");
    expect(performance.now() - started).toBeGreaterThanOrEqual(1200);
  });

  test("an abort (provisioner timeout) stops a running script", async () => {
    const ac = new AbortController();
    const started = performance.now();
    const pending = rig.run("shell", { inline: ["sleep 30"], remote_folder: remote }, { signal: ac.signal });
    await Bun.sleep(1500);
    ac.abort(new Error("Cancelling provisioner after a timeout..."));
    const r = await pending;
    expect(r.error).not.toBeNull();
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 20_000);

  test("upload failures name the path (remote folder that does not exist)", async () => {
    // Packer retries upload-and-start every 2 s until start_retry_timeout (default 5m): keep it short.
    const r = await rig.run("shell", { inline: ["true"], remote_folder: `${remote}/no/such/dir`, start_retry_timeout: "1s" });
    expect(r.error).toStartWith("plugin shell: Error uploading script: ");
    expect(r.error).toContain(`${remote}/no/such/dir`);
  });

  test("the builder's HTTP server address is in the environment; 'not implemented' placeholders are not", async () => {
    const r = await rig.run(
      "shell",
      { inline: ['echo "addr=$PACKER_HTTP_ADDR ip=${PACKER_HTTP_IP-unset} port=$PACKER_HTTP_PORT"'], remote_folder: remote },
      { generated: { PackerHTTPAddr: "10.0.2.2:8123", PackerHTTPIP: "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER", PackerHTTPPort: "8123" } },
    );
    expect(output(r.lines)).toEqual(["message: addr=10.0.2.2:8123 ip=unset port=8123"]);
  });

  test("when the machine is away longer than the communicator waits, the upload and start are tried again", async () => {
    // A server of its own, down when the provisioner starts and back ~3 s later; the communicator
    // gives up after 2 s (ssh_timeout), so only the provisioner's second try can succeed.
    const own = await startSshd();
    const saved = rig.sshd;
    rig.sshd = own;
    const comm = await rig.connect({ ssh_timeout: "2s" });
    rig.sshd = saved;
    try {
      await own.kill();
      const back = Bun.sleep(3000).then(() => own.restart());
      const r = await rig.run("shell", { inline: ["echo made it"], remote_folder: own.remoteDir }, { communicator: comm });
      await back;
      expect(r.error).toBeNull();
      expect(output(r.lines)).toEqual(["message: made it"]);
    } finally {
      await comm.close();
      await own.stop();
    }
  }, 60_000);
});

describe("shell through the local communicator", () => {
  test("runs on this machine with the same upload, run and cleanup", async () => {
    const { mkdtempSync, rmSync, readdirSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const folder = mkdtempSync(join(tmpdir(), "imgb-shell-localcomm-"));
    try {
      const r = await rig.run("shell", { inline: ['echo "local $PACKER_BUILD_NAME $(dirname "$0")"'], remote_folder: folder }, { communicator: localCommunicator() });
      expect(r.error).toBeNull();
      expect(output(r.lines)).toEqual([`message: local ssh ${folder}`]);
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
