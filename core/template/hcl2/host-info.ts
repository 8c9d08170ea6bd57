// The `host-info` data source (Packer plugin github.com/stromweld/host-info, which chef/bento's
// templates require): facts about the computer imgb runs on, with the plugin's attribute names and
// Go's spellings (os_type "linux"/"darwin"/"windows", architecture "amd64"/"arm64"/"386"). On Linux,
// platform, family and version follow the plugin's gopsutil library: Debian-based systems are read
// from /etc/lsb-release (Ubuntu, Mint) or /etc/debian_version (Debian: "12.11"), others from
// /etc/os-release (ID, VERSION_ID); family groups platforms ("debian", "rhel", "suse", ...). It
// takes no configuration.
import { existsSync, readFileSync } from "node:fs";
import { arch, platform, release } from "node:os";
import type { JsonObject } from "../../values/json.ts";

export interface HostInfo {
  os_type: string;
  version: string;
  architecture: string;
  platform: string;
  family: string;
}

const GO_ARCH: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64" };
const GO_OS: Record<string, string> = { win32: "windows", darwin: "darwin", linux: "linux", freebsd: "freebsd", openbsd: "openbsd", sunos: "solaris", aix: "aix" };

const FAMILY: Record<string, string> = {
  debian: "debian", ubuntu: "debian", linuxmint: "debian", raspbian: "debian",
  fedora: "fedora",
  oracle: "rhel", centos: "rhel", redhat: "rhel", rhel: "rhel", scientific: "rhel", amazon: "rhel", rocky: "rhel", almalinux: "rhel", cloudlinux: "rhel",
  suse: "suse", opensuse: "suse", "opensuse-leap": "suse", "opensuse-tumbleweed": "suse", sles: "suse", sled: "suse",
  gentoo: "gentoo", slackware: "slackware", arch: "arch", alpine: "alpine", coreos: "coreos", solus: "solus",
};

/** KEY=value lines (os-release, lsb-release), quotes removed. */
function keyValues(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^["']|["']$/g, "");
  }
  return out;
}

function firstLine(path: string): string {
  return existsSync(path) ? (readFileSync(path, "utf8").split("\n")[0] ?? "").trim() : "";
}

/** Linux's platform and version, as gopsutil reads them; `etc` is /etc (a test may point elsewhere). */
export function linuxPlatform(etc = "/etc"): { platform: string; version: string } {
  if (existsSync(`${etc}/debian_version`)) {
    const lsb = keyValues(`${etc}/lsb-release`);
    if (lsb.DISTRIB_ID === "Ubuntu") return { platform: "ubuntu", version: lsb.DISTRIB_RELEASE ?? "" };
    if (lsb.DISTRIB_ID === "LinuxMint") return { platform: "linuxmint", version: lsb.DISTRIB_RELEASE ?? "" };
    return { platform: "debian", version: firstLine(`${etc}/debian_version`) };
  }
  const os = keyValues(`${etc}/os-release`);
  return { platform: os.ID ?? "", version: os.VERSION_ID ?? "" };
}

export function hostInfo(etc = "/etc"): HostInfo {
  const osType = GO_OS[platform()] ?? platform();
  const architecture = GO_ARCH[arch()] ?? arch();
  if (osType !== "linux") return { os_type: osType, version: release(), architecture, platform: osType, family: "" };
  const p = linuxPlatform(etc);
  return { os_type: osType, version: p.version, architecture, platform: p.platform, family: FAMILY[p.platform] ?? "" };
}

export const HOST_INFO_DATA_SOURCE = {
  schema: { fields: [] },
  execute(): JsonObject {
    return { ...hostInfo() };
  },
};
