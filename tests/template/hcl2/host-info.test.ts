// The built-in host-info data source (github.com/stromweld/host-info, required by chef/bento): its
// attributes on this machine, the Linux platform rules on sample /etc folders, its use from a
// template (as bento does, through try()), and its refusal of arguments; `imgb init` takes the
// plugin as built in.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiagnosticsError } from "../../../core/errors/diagnostic.ts";
import { hostInfo, linuxPlatform } from "../../../core/template/hcl2/host-info.ts";
import { loadHcl2Template } from "../../../core/template/hcl2/index.ts";
import { builtinPlugin, parsePluginSource } from "../../../core/registry/packer-plugins.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "imgb-host-info-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe("host-info", () => {
  test("this machine: Go's names for the OS and architecture, Debian's version file", () => {
    const info = hostInfo();
    expect(info.os_type).toBe("linux");
    const machine = Bun.spawnSync(["uname", "-m"]).stdout.toString().trim();
    expect(info.architecture).toBe({ x86_64: "amd64", aarch64: "arm64", i686: "386" }[machine] ?? machine);
    // The test machines are Debian (the suite installs its packages with apt-get).
    expect(info.platform).toBe("debian");
    expect(info.family).toBe("debian");
    expect(info.version).toBe(readFileSync("/etc/debian_version", "utf8").trim());
  });

  test("Linux platforms as gopsutil reads them: Ubuntu from lsb-release, Debian from debian_version, others from os-release", () => {
    const ubuntu = folder({ "debian_version": "trixie/sid\n", "lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=24.04\n", "os-release": 'ID=ubuntu\nVERSION_ID="24.04"\n' });
    expect(linuxPlatform(ubuntu)).toEqual({ platform: "ubuntu", version: "24.04" });
    const debian = folder({ "debian_version": "12.11\n", "os-release": 'ID=debian\nVERSION_ID="12"\n' });
    expect(linuxPlatform(debian)).toEqual({ platform: "debian", version: "12.11" });
    const rocky = folder({ "os-release": 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.4"\n' });
    expect(linuxPlatform(rocky)).toEqual({ platform: "rocky", version: "9.4" });
    expect(linuxPlatform(folder({}))).toEqual({ platform: "", version: "" });
  });

  test("a template reads it as bento does, and an argument is an error", async () => {
    const dir = folder({
      "t.pkr.hcl": `data "host-info" "this" {}\nlocals {\n  host_os = try(data.host-info.this.os_type, "unknown")\n  accel = local.host_os == "darwin" ? "hvf" : "kvm"\n}\nsource "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["null.a"]\n  name = "\${local.host_os}-\${local.accel}-\${data.host-info.this.architecture}"\n}\n`,
    });
    const t = await loadHcl2Template(dir, { vars: [], varFiles: [], env: {} });
    expect(t.builds[0]!.name).toBe(`linux-kvm-${hostInfo().architecture}.null.a`);

    const bad = folder({ "t.pkr.hcl": `data "host-info" "this" {\n  os = "linux"\n}\nsource "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["null.a"]\n}\n` });
    const err = await loadHcl2Template(bad, { vars: [], varFiles: [], env: {} }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DiagnosticsError);
    const d = (err as DiagnosticsError).diagnostics[0]!;
    expect(d.summary).toContain("Unsupported argument");
    expect(d.range?.start.line).toBe(2);
  });

  test("required_plugins github.com/stromweld/host-info is built in", () => {
    expect(builtinPlugin(parsePluginSource("github.com/stromweld/host-info")!)?.dataSources).toEqual(["host-info"]);
    expect(builtinPlugin(parsePluginSource("github.com/Stromweld/host-info")!)).toBeDefined();
  });
});
